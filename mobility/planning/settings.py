"""How bookings become optimizer requests, and how long the optimizer searches."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the solver (numba) is imported when a plan is made, not before
    from optimizer.solve import SolverParams

__all__ = ["PlanningSettings", "solver_params"]


@dataclass(frozen=True)
class PlanningSettings:
    """How bookings become optimizer requests.

    Parameters
    ----------
    window_min
        To work: arrive in the ``window_min`` minutes before the arrive-by time;
        back: picked up in the ``window_min`` minutes after the depart-after time.
    appointment_margin_min
        To a service (hospital, office): arrive at least this long before the
        appointment, in the ``window_min`` minutes before that.
    ride_factor, ride_extra_min
        Longest ride: ``ride_factor`` x the direct time + ``ride_extra_min``.
    boarding_base_s, boarding_per_seat_s
        Time to stop and let a group on or off.
    max_shift_min
        On a re-plan, published pickup times move by at most this much.
    keep_late_min
        A booking kept in place on a re-plan (``BookingRow.keep``) boards in the
        minute told or at most this much later, never earlier.
    max_group_seats
        Bookings riding together are packed into requests of at most this many
        seats (whole bookings), so a large crowd can fill several buses of any size
        rather than only the largest ones.
    time_limit_s
        Wall-clock limit of the optimizer's search.
    solver_workers
        Searches run at once (default: one per CPU core, at most the portfolio's).
    solution_limit, lns_iterations
        Stop OR-Tools after this many improving solutions and the large-neighbourhood
        search after this many iterations (tests: a plan that does not depend on
        the machine's speed).
    seed
        Random seed of the search.
    split_crews
        Let a group (and, last, a crew) ride in several vehicles when no single
        vehicle has room for it at that time (see ``SolverParams.split_crews``).
    """

    window_min: int = 30
    appointment_margin_min: int = 10
    ride_factor: float = 1.5
    ride_extra_min: int = 15
    boarding_base_s: int = 60
    boarding_per_seat_s: int = 10
    max_shift_min: int = 10
    keep_late_min: int = 1
    max_group_seats: int = 28
    time_limit_s: float = 60.0
    solver_workers: int | None = None
    solution_limit: int | None = None
    lns_iterations: int | None = None
    seed: int = 0
    split_crews: bool = True

    def with_time_limit(self, seconds: float) -> PlanningSettings:
        """The same settings with another time limit."""
        return dataclasses.replace(self, time_limit_s=seconds)


def solver_params(settings: PlanningSettings) -> SolverParams:
    """The optimizer's parameters for these settings (the one place they are built)."""
    from optimizer.solve import SolverParams

    return SolverParams(
        time_limit_s=settings.time_limit_s,
        workers=settings.solver_workers,
        solution_limit=settings.solution_limit,
        lns_iterations=settings.lns_iterations,
        seed=settings.seed,
        split_crews=settings.split_crews,
    )
