"""Thin jobs: a primitive id in, a service call."""

from conversion.runs import conversion_execute


def convert_dataset_job(run_id: int) -> None:
    conversion_execute(run_id=run_id)
