"""The worker side: workers and their PINs, rides, confidential incident reports.

Every function takes a session and primitives, checks every rule before writing,
and commits explicitly. This package and :mod:`mobility.dispatch` (the staff side)
do not import each other.
"""

from mobility.bookings._codes import CODE_ALPHABET
from mobility.bookings.incidents import MAX_INCIDENT_CHARS, list_incidents, submit_incident
from mobility.bookings.mydata import delete_account, worker_data
from mobility.bookings.rides import (
    RideRequest,
    cancel_booking,
    find_booking,
    list_bookings,
    request_rides,
)
from mobility.bookings.rules import BookingRules
from mobility.bookings.tokens import TOKEN_MINUTES, issue_token, revoke_tokens, worker_from_token
from mobility.bookings.workers import (
    STOP_WORDS,
    authenticate_worker,
    find_worker,
    get_worker,
    opt_out_by_phone,
    parse_phone,
    register_worker,
    set_phone,
)

__all__ = [
    "CODE_ALPHABET",
    "MAX_INCIDENT_CHARS",
    "STOP_WORDS",
    "TOKEN_MINUTES",
    "BookingRules",
    "RideRequest",
    "authenticate_worker",
    "cancel_booking",
    "delete_account",
    "find_booking",
    "find_worker",
    "get_worker",
    "issue_token",
    "list_bookings",
    "list_incidents",
    "opt_out_by_phone",
    "parse_phone",
    "register_worker",
    "request_rides",
    "revoke_tokens",
    "set_phone",
    "submit_incident",
    "worker_data",
    "worker_from_token",
]
