"""Messages to workers: the SMS outbox and the transports that send it.

A change that a worker must hear about (a published pickup, a pickup moved, a ride
cancelled by the hub, no seat found) queues a message in the same transaction; a job
sends what is due (:func:`send_due`), with retries, never twice.
"""

from mobility.messages.outbox import (
    MOVED_MIN,
    MessageRow,
    count_messages,
    list_messages,
    queue_change_notices,
    queue_lost_seat,
    queue_on_its_way,
    queue_publish_notices,
    queue_reminders,
    queue_rescue,
    queue_staff_cancellation,
    send_again,
)
from mobility.messages.sender import SendReport, backoff_s, next_due, send_due
from mobility.messages.texts import MAX_SEGMENTS, MessageFacts, compose, is_gsm, segments
from mobility.messages.transports import (
    Delivery,
    HttpTransport,
    JasminTransport,
    LogTransport,
    Outcome,
    Transport,
    make_transport,
)

__all__ = [
    "MAX_SEGMENTS",
    "MOVED_MIN",
    "Delivery",
    "HttpTransport",
    "JasminTransport",
    "LogTransport",
    "MessageFacts",
    "MessageRow",
    "Outcome",
    "SendReport",
    "Transport",
    "backoff_s",
    "compose",
    "count_messages",
    "is_gsm",
    "list_messages",
    "make_transport",
    "next_due",
    "queue_change_notices",
    "queue_lost_seat",
    "queue_on_its_way",
    "queue_publish_notices",
    "queue_reminders",
    "queue_rescue",
    "queue_staff_cancellation",
    "segments",
    "send_again",
    "send_due",
]
