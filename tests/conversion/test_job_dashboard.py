"""The django-rq job dashboard: migration admins and superusers only, under /django-rq/ and under the admin."""

import os

import django_rq
import pytest
from django.contrib.auth.models import Permission, User
from rq.job import Job

from migration_site.lib import job_dashboard
from tests.factories import make_user

# The dashboard is mounted only when REDIS_URL is set: these tests mount it whatever the environment says.
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.conversion.dashboard_urls")]
needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
DASHBOARD_URLS = ["/django-rq/", "/django-rq/queues/0/", "/django-rq/stats.json", "/admin/django_rq/dashboard/"]


def discard(job) -> None:
    if Job.exists(job.id, connection=job.connection):
        job.delete()


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_a_curator_is_refused_every_dashboard_page(client, curator, url):
    client.force_login(curator)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_a_staff_user_in_no_group_is_refused(client, outsider, url):
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get("/django-rq/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/django-rq/")


@needs_redis
@pytest.mark.redis
def test_a_curator_cannot_delete_a_queued_job(client, curator):
    queue = django_rq.get_queue("default")
    job = queue.enqueue("builtins.print", "never run")
    try:
        client.force_login(curator)
        index = django_rq.settings.get_queues_map()["default"]
        for url in (f"/django-rq/queues/{index}/{job.id}/delete/", f"/django-rq/queues/{index}/empty/"):
            assert client.post(url, {"post": "yes"}).status_code == 403
        assert job.id in queue.job_ids
    finally:
        discard(job)


def test_the_admin_index_shows_the_dashboard_to_migration_admins_only(client, curator, migration_admin):
    client.force_login(curator)
    assert "django_rq" not in client.get("/admin/").content.decode()
    client.force_login(migration_admin)
    assert "/admin/django_rq/dashboard/" in client.get("/admin/").content.decode()


def test_the_permission_not_the_group_decides(client, outsider):
    outsider.user_permissions.add(Permission.objects.get(content_type__app_label="django_rq", codename="admin"))
    outsider = User.objects.get(pk=outsider.pk)  # permissions are cached on the instance
    assert job_dashboard.may_manage_jobs(outsider)
    curator = make_user("cleo", group="Curators")
    assert not job_dashboard.may_manage_jobs(curator)


@needs_redis
@pytest.mark.redis
def test_a_migration_admin_sees_the_queues_and_deletes_a_job(client, migration_admin):
    queue = django_rq.get_queue("default")
    job = queue.enqueue("builtins.print", "never run")
    try:
        client.force_login(migration_admin)
        page = client.get("/django-rq/")
        assert page.status_code == 200
        assert "script-src 'self' 'sha256-" in page["Content-Security-Policy"]
        index = django_rq.settings.get_queues_map()["default"]
        response = client.post(f"/django-rq/queues/{index}/{job.id}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert job.id not in queue.job_ids
    finally:
        discard(job)


@needs_redis
@pytest.mark.redis
def test_a_superuser_in_no_group_may_use_the_dashboard(client):
    admin = User.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    assert client.get("/admin/django_rq/dashboard/").status_code == 200
