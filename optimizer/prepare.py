"""What the model is built from: the request parts worth modelling, with time
windows tightened from the data; the parts no vehicle could serve even alone are set
aside with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from optimizer.params import SolverParams
from optimizer.plan import UnassignedReason
from optimizer.problem import UNLIMITED, RoutingProblem

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """What the model is built from: the parts worth modelling, tightened."""

    problem: RoutingProblem
    parts: list[int]  # indices into problem.parts, in model order
    pickup_window: list[tuple[int, int]]
    delivery_window: list[tuple[int, int]]
    set_aside: dict[int, UnassignedReason] = field(default_factory=dict)
    # request -> seats of the largest vehicle that could serve a smaller part alone,
    # for requests no vehicle large enough for its part can serve in time
    cut: dict[int, int] = field(default_factory=dict)


def prepare(problem: RoutingProblem, params: SolverParams) -> Prepared:
    prepared = Prepared(problem, [], [], [])
    for j, part in enumerate(problem.parts):
        req = problem.requests[part.request]
        eligible = problem.eligible_vehicles(part.request)
        if not eligible:
            prepared.set_aside[j] = UnassignedReason.NO_ELIGIBLE_VEHICLE
            continue
        if part.seats > max(problem.vehicles[k].seats for k in eligible):
            prepared.set_aside[j] = UnassignedReason.TOO_MANY_SEATS
            continue
        pw, dw = req.pickup_window, req.delivery_window
        if params.tighten_windows:
            tightened = _tighten(problem, part.request, eligible)
            if tightened is None:
                prepared.set_aside[j] = UnassignedReason.UNREACHABLE_IN_WINDOW
                continue
            pw, dw = tightened
        fits = [k for k in eligible if problem.vehicles[k].seats >= part.seats]
        if not any(_alone_feasible(problem, part.request, k, pw, dw) for k in fits):
            prepared.set_aside[j] = UnassignedReason.UNREACHABLE_IN_WINDOW
            smaller = [
                problem.vehicles[k].seats
                for k in eligible
                if problem.vehicles[k].seats < part.seats
                and _alone_feasible(problem, part.request, k, pw, dw)
            ]
            if smaller:
                prepared.cut[part.request] = max(smaller)
            continue
        prepared.parts.append(j)
        prepared.pickup_window.append(pw)
        prepared.delivery_window.append(dw)
    return _set_aside_together(prepared)


def _set_aside_together(prepared: Prepared) -> Prepared:
    """A part served with others all or none (``RequestPart.together``) is set aside
    with the reason of any of them that is: the set can never be served whole."""
    parts = prepared.problem.parts
    reason_of = {parts[j].together: why for j, why in prepared.set_aside.items()}
    keep = [m for m, j in enumerate(prepared.parts) if parts[j].together not in reason_of]
    for j in prepared.parts:
        if parts[j].together in reason_of:
            prepared.set_aside[j] = reason_of[parts[j].together]
    prepared.parts = [prepared.parts[m] for m in keep]
    prepared.pickup_window = [prepared.pickup_window[m] for m in keep]
    prepared.delivery_window = [prepared.delivery_window[m] for m in keep]
    return prepared


def _tighten(
    problem: RoutingProblem, r: int, eligible: Sequence[int]
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Tighten a request's windows until nothing changes; None if they empty out."""
    req = problem.requests[r]
    # lower bounds over the vehicles that may serve it (each drives its own matrix)
    direct = min(int(problem.travel(k)[0][req.pickup, req.delivery]) for k in eligible)
    sp, sd, ride = req.pickup_service, req.delivery_service, req.max_ride
    if ride != UNLIMITED and direct > ride:
        return None
    pe, pl = req.pickup_window
    de, dl = req.delivery_window
    reach = min(
        problem.vehicles[k].shift[0]
        + int(problem.travel(k)[0][problem.vehicles[k].start, req.pickup])
        for k in eligible
    )
    home = max(
        problem.vehicles[k].shift[1]
        - sd
        - int(problem.travel(k)[0][req.delivery, problem.vehicles[k].end])
        for k in eligible
    )
    while True:
        before = (pe, pl, de, dl)
        pe = max(pe, reach)
        dl = min(dl, home)
        pl = min(pl, dl - sp - direct)
        de = max(de, pe + sp + direct)
        if ride != UNLIMITED:
            pe = max(pe, de - ride - sp)
            dl = min(dl, pl + sp + ride)
        if pe > pl or de > dl:
            return None
        if (pe, pl, de, dl) == before:
            return (pe, pl), (de, dl)


def _alone_feasible(
    problem: RoutingProblem, r: int, k: int, pw: tuple[int, int], dw: tuple[int, int]
) -> bool:
    """Whether vehicle ``k`` could serve request ``r`` on an otherwise empty route."""
    req, v, dur = problem.requests[r], problem.vehicles[k], problem.travel(k)[0]
    to_p = int(dur[v.start, req.pickup])
    direct = int(dur[req.pickup, req.delivery])
    b_p = max(v.shift[0] + to_p, pw[0])
    if b_p > pw[1]:
        return False
    b_d = max(b_p + req.pickup_service + direct, dw[0])
    if b_d > dw[1]:
        return False
    b_p = min(pw[1], b_d - req.pickup_service - direct)  # board as late as possible
    if req.max_ride != UNLIMITED and b_d - b_p - req.pickup_service > req.max_ride:
        return False
    end = b_d + req.delivery_service + int(dur[req.delivery, v.end])
    if end > v.shift[1]:
        return False
    start = max(v.shift[0], b_p - to_p)
    return v.max_duration == UNLIMITED or end - start <= v.max_duration
