"""Thin jobs: a primitive id in, a service call."""

from publishing.runs import publication_execute


def publication_job(run_id: int) -> None:
    publication_execute(run_id=run_id)
