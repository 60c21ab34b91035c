"""The site's URLs with the job dashboard mounted, as it is when REDIS_URL is set."""

from django.urls import include, path

from migration_site.lib import job_dashboard
from migration_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("django-rq/", include((job_dashboard.urlpatterns(), "django_rq"))), *site_urlpatterns]
