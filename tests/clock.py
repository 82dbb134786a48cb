"""The suite's calendar: service days chosen by weekday, never "today + 2".

A test that books "the day after tomorrow" passes on Thursday and fails on Friday
(a Monday-to-Saturday series starting on a Sunday books nothing). So the suite books
on a fixed weekday: :data:`DAY` is always a Wednesday, 2 to 8 days after the date
the suite starts on. That date is read once, here, from the project's clock: the
worker processes some tests start (an RQ worker, a local planning process, gunicorn)
keep the real clock, and the suite's days must stay bookable for them too.

Tests whose subject is the calendar itself (booking, series, cut-off, reminders) do
not use it: they travel (time-machine, in this process) to each day of one week
with :func:`week_clock`, so that every weekday is exercised on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Final

import pytest
import time_machine

from mobility.clock import DEFAULT_TIMEZONE, local_now, zone

MONDAY, WEDNESDAY, SUNDAY = 0, 2, 6


def upcoming(weekday: int, *, after: dt.date, at_least: int = 2) -> dt.date:
    """The first ``weekday`` (0 = Monday) at least ``at_least`` days after ``after``."""
    first = after + dt.timedelta(days=at_least)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7)


#: The date the suite started on (the one read of the real clock, see above).
STARTED: Final = local_now().date()
#: The service day of the suite's plans: a Wednesday, 2 to 8 days ahead.
DAY: Final = upcoming(WEDNESDAY, after=STARTED)
#: A Monday to start a week of travels on (at most 14 days ahead with DAY's week).
WEEK_START: Final = upcoming(MONDAY, after=STARTED, at_least=0)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute`` in the service's time zone."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone(DEFAULT_TIMEZONE))


@pytest.fixture(params=range(7), ids=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
def week_clock(request: pytest.FixtureRequest) -> Iterator[dt.date]:
    """Today is each day of one week in turn (10:00 in Foggia, the clock ticking):
    the test gets that date."""
    today = WEEK_START + dt.timedelta(days=request.param)
    with time_machine.travel(at(today), tick=True):
        yield today
