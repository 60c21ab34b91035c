"""URL wiring: the admin (review app) and the django-rq dashboard when Redis is configured."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "OpenSpending legacy migration"
admin.site.site_title = "OpenSpending migration"
admin.site.index_title = "Migration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("publishing.urls")),  # the public site, last: it ends with the legacy-path redirects
]

if settings.REDIS_URL:
    urlpatterns.insert(1, path("django-rq/", include("django_rq.urls")))
