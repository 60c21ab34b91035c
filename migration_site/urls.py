"""URL wiring: the admin (review app) and its migration dashboard, the django-rq dashboard when Redis is configured,
the public site."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from migration_site.lib import job_dashboard
from publishing import dashboard

admin.site.site_header = "OpenSpending legacy migration"
admin.site.site_title = "OpenSpending migration"
admin.site.index_title = "Migration"
job_dashboard.install_admin(admin.site)  # before admin.site.urls is read: django-rq's own entry admits all staff

urlpatterns = [
    path("admin/migration/", admin.site.admin_view(dashboard.dashboard_view), name="migration_dashboard"),
    path("admin/", admin.site.urls),
    path("", include("publishing.urls")),  # the public site, last: it ends with the legacy-path redirects
]

if settings.REDIS_URL:
    urlpatterns.insert(1, path("django-rq/", include((job_dashboard.urlpatterns(), "django_rq"))))
