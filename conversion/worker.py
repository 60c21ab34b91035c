"""The rq worker the project runs (`RQ["WORKER_CLASS"]`): rq's own, which first sweeps what killed jobs left."""

from __future__ import annotations

from typing import Any

from django.db import connections
from rq import Worker

from conversion import workdirs


class MigrationWorker(Worker):
    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        removed = workdirs.sweep()
        if removed:
            self.log.info("removed %d scratch folder(s) that killed jobs left behind", len(removed))
        connections.close_all()  # the work-horses fork from this process: they must not share its connection
        super().bootstrap(*args, **kwargs)
