"""Site wiring: the demo command, the job queues on Redis."""

import os
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from datasets.models import LegacyDataset


@pytest.mark.django_db
def test_the_demo_migrates_the_sample_instance_and_prints_working_credentials(tmp_path):
    out = StringIO()
    call_command("demo", "--no-serve", "--dump-dir", str(tmp_path), stdout=out)
    output = out.getvalue()
    assert "Exported 6 datasets (1 private, 0 failed)" in output
    assert LegacyDataset.objects.count() == 6
    for username in ("admin", "curator", "migration-admin"):
        password = output.split(f"user {username!r}, password '")[1].split("'")[0]
        user = authenticate(username=username, password=password)
        assert user is not None and user.is_staff, username
    assert "Proposed for 5 datasets" in output


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_the_job_queues_reach_redis():
    import django_rq

    for name in ("default", "conversion", "publishing"):
        queue = django_rq.get_queue(name)
        assert queue.connection.ping()
        assert queue.connection.connection_pool.connection_kwargs["host"] in {"127.0.0.1", "localhost"}
