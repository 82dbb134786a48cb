"""Lock-out after wrong secrets, counted before the slow check and atomically.

A PIN or password check costs a slow hash (82 ms). Reading the failure count,
hashing, then writing the count back lets parallel attempts all read the same count:
twelve wrong PINs at once left one failure. Here every attempt first adds one to the
count in a single ``UPDATE ... RETURNING`` (each attempt gets its own number, in any
process on any machine); attempts numbered past the limit fail without hashing, so
at most ``attempts`` secrets are ever checked before the lock. The count is reset by
a right secret, and when a lock has run out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session

from mobility.clock import as_utc

__all__ = ["checked_with_lockout"]


def checked_with_lockout(
    session: Session,
    row: Any,
    counter: InstrumentedAttribute[int],
    check: Callable[[], bool],
    spend: Callable[[], None],
    *,
    attempts: int,
    lockout: dt.timedelta,
    now: dt.datetime,
) -> bool:
    """Whether ``check()`` (the slow comparison of a secret) passes for ``row``,
    counting the attempt first; ``False`` without checking while ``row`` is locked
    or once ``attempts`` failures were counted.

    Parameters
    ----------
    session
        Database session (committed here: the count must outlive the request).
    row
        The account (a mapped object with ``id`` and ``locked_until``).
    counter
        Its failure counter column (e.g. ``Worker.failed_pins``).
    check
        Compares the secret; called at most once.
    spend
        Takes as long as ``check`` without comparing anything: called instead when the
        attempt is refused unchecked, so that a lock does not show in the answer's time.
    attempts
        Failures before the lock.
    lockout
        How long the lock lasts.
    now
        The time of the attempt.
    """
    model = type(row)
    locked = row.locked_until
    if locked is not None and as_utc(locked) > now:
        spend()
        return False
    if locked is not None:  # the lock ran out: counting starts again
        session.execute(
            update(model)
            .where(model.id == row.id, model.locked_until.is_not(None))
            .values({counter: 0, model.locked_until: None})
        )
    number = session.execute(
        update(model)
        .where(model.id == row.id)
        .values({counter: counter + 1})
        .returning(counter)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    session.commit()
    if number > attempts:
        spend()
        return False
    if check():
        session.execute(
            update(model).where(model.id == row.id).values({counter: 0, model.locked_until: None})
        )
        session.commit()
        return True
    if number >= attempts:  # the last allowed attempt failed: lock
        session.execute(
            update(model)
            .where(model.id == row.id)
            .values({model.locked_until: (now + lockout).astimezone(dt.UTC)})
        )
        session.commit()
    return False
