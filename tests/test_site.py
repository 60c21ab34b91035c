"""Site wiring: the job queues on Redis. The demo command: tests/test_demo_command.py."""

import os

import pytest


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_the_job_queues_reach_redis():
    import django_rq

    for name in ("default", "conversion", "publishing"):
        queue = django_rq.get_queue(name)
        assert queue.connection.ping()
        assert queue.connection.connection_pool.connection_kwargs["host"] in {"127.0.0.1", "localhost"}
