"""URL wiring: the admin (review app) and the django-rq dashboard when Redis is configured."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "OpenSpending legacy migration"
admin.site.site_title = "OpenSpending migration"
admin.site.index_title = "Migration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

if settings.REDIS_URL:
    urlpatterns.append(path("django-rq/", include("django_rq.urls")))
