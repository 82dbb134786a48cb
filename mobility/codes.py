"""Codes the domain stores and the edges translate: why a booking has no ride.

A code is stored and compared as its value; only the pages, the sheets and the
messages turn it into a sentence, in the reader's language (``web/i18n`` and the
catalogues), so that rewording a sentence never breaks a filter.
"""

from __future__ import annotations

import enum

__all__ = ["UnservedReason"]


class UnservedReason(enum.StrEnum):
    """Why the plan gives a booking no ride (stored on the booking)."""

    #: no vehicle of the fleet may drive to one of its stops
    NO_VEHICLE_MAY_SERVE = "no_vehicle_may_serve"
    #: more seats than any vehicle that may go there, and the crew may not split
    TOO_MANY_SEATS = "too_many_seats"
    #: no vehicle can serve it within its time windows and ride time, even alone
    UNREACHABLE = "unreachable"
    #: some vehicle could, but there is no room left at that time
    FLEET_FULL = "fleet_full"
    #: the day has bookings but no active vehicle
    NO_FLEET = "no_fleet"
    #: a dispatcher left it out of the plan
    LEFT_UNASSIGNED = "left_unassigned"

    @property
    def for_want_of_room(self) -> bool:
        """Whether more vehicles (or a dispatcher) could serve it: not out of reach."""
        return self in (UnservedReason.FLEET_FULL, UnservedReason.LEFT_UNASSIGNED)
