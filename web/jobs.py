"""The app's job queue, built once: RQ when ``MOBILITY_REDIS_URL`` is set, else a
separate local process per job. Views hand planning to it and return at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app

from mobility.jobs import JobQueue, make_queue
from web.settings import get_settings

__all__ = ["init_app", "job_queue", "planning_overrides"]


def init_app(app: Flask) -> None:
    """Make the queue from the settings (jobs log to ``instance/jobs.log``)."""
    settings = app.extensions["mobility.settings"]
    app.extensions["mobility.queue"] = make_queue(settings, Path(app.instance_path) / "jobs.log")


def job_queue() -> JobQueue:
    """The running app's queue."""
    return cast(JobQueue, current_app.extensions["mobility.queue"])


def planning_overrides() -> dict[str, Any]:
    """The app's planning settings for a job (the run carries its own time limit)."""
    values = dataclasses.asdict(get_settings().planning)
    values.pop("time_limit_s")
    return values
