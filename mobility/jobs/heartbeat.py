"""A running job's heartbeat, written by a small process of its own.

The search holds the interpreter lock for seconds at a time (OR-Tools does not
release it), so a thread could not beat reliably; a child process does, and stops
when its parent is gone, so a killed worker stops beating within one period.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mobility.dispatch import HEARTBEAT_S, beat
from mobility.store import make_engine, make_session_factory

__all__ = ["heartbeat"]


def _beat(database_url: str, run_id: int, every_s: float, parent: int, stop: Any) -> None:
    engine = make_engine(database_url)  # its own engine: nothing shared with the parent
    sessions = make_session_factory(engine)
    try:
        while not stop.wait(every_s):
            if os.getppid() != parent:  # the job's process died: let the run go stale
                return
            with sessions() as session:
                if not beat(session, run_id):  # done, failed or reaped: nothing to keep alive
                    return
    finally:
        engine.dispose()


@contextmanager
def heartbeat(database_url: str, run_id: int, *, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Keep run ``run_id``'s heartbeat fresh while the block runs."""
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    stop = context.Event()
    process = context.Process(
        target=_beat,
        args=(database_url, run_id, every_s, os.getpid(), stop),
        name=f"heartbeat-{run_id}",
        daemon=True,
    )
    process.start()
    try:
        yield
    finally:
        stop.set()
        process.join(timeout=every_s + 5)
        if process.is_alive():
            process.kill()
