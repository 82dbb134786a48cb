"""Repair operators: insert the requests left out, cheapest first or by regret,
keeping every set of requests served all or none."""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer.lns.arrays import BIG, NOWHERE
from optimizer.lns.destroy import take_out
from optimizer.lns.routes import best_insertion, insert


@njit(cache=True)
def _noisy(cost, noise):  # type: ignore[no-untyped-def]
    if cost >= BIG:
        return np.inf
    return max(0.0, cost + noise * (2.0 * np.random.random() - 1.0))


@njit(cache=True)
def _price(a, k, pending, noise, state, data, ws, noisy, at_i, at_j):  # type: ignore[no-untyped-def]
    """The (noisy) cost and positions of inserting ``pending[a]`` into route ``k``."""
    out = ws.out
    best_insertion(pending[a], k, state, data, ws, out)
    noisy[a, k] = _noisy(out[0], noise)
    at_i[a, k] = out[1]
    at_j[a, k] = out[2]


@njit(cache=True)
def _urgency(a, depth, noisy, regret, cheapest, route):  # type: ignore[no-untyped-def]
    """Row ``a`` of ``noisy`` summed up: its regret (the difference between its
    cheapest route and its next one or two, ``depth`` 2 and 3; 0 with depth 1), its
    cheapest cost and that route (NOWHERE when it fits nowhere)."""
    c1 = c2 = c3 = np.inf
    k1 = NOWHERE
    for k in range(noisy.shape[1]):
        x = noisy[a, k]
        if x < c1:
            c3, c2, c1, k1 = c2, c1, x, k
        elif x < c2:
            c3, c2 = c2, x
        elif x < c3:
            c3 = x
    r = 0.0
    if depth >= 2:
        r += (c2 - c1) if c2 < np.inf else 1e18
    if depth >= 3:
        r += (c3 - c1) if c3 < np.inf else 1e18
    regret[a], cheapest[a], route[a] = r, c1, k1


@njit(cache=True)
def _most_urgent(alive, regret, cheapest, route):  # type: ignore[no-untyped-def]
    """The pending request to insert next: the largest regret, then the cheapest
    (see :func:`_urgency`); NOWHERE when none fits anywhere."""
    best_a = NOWHERE
    best_regret = -1.0
    best_c1 = np.inf
    for a in range(regret.shape[0]):
        if not alive[a] or route[a] == NOWHERE:
            continue
        if regret[a] > best_regret or (regret[a] == best_regret and cheapest[a] < best_c1):
            best_regret, best_c1, best_a = regret[a], cheapest[a], a
    return best_a


@njit(cache=True)
def _same_vehicle(k, e, data):  # type: ignore[no-untyped-def]
    """Whether vehicles ``k`` and ``e`` are alike (the same seats, depots, shift,
    speed profile and costs)."""
    return (
        data.v_cap[k] == data.v_cap[e]
        and data.v_start[k] == data.v_start[e]
        and data.v_end[k] == data.v_end[e]
        and data.v_early[k] == data.v_early[e]
        and data.v_late[k] == data.v_late[e]
        and data.v_dur[k] == data.v_dur[e]
        and data.v_prof[k] == data.v_prof[e]
        and data.v_fixed[k] == data.v_fixed[e]
    )


@njit(cache=True)
def empty_twins(state, data):  # type: ignore[no-untyped-def]
    """Per vehicle: an earlier empty vehicle alike (whose insertions cost the same)
    if it is empty too, else NOWHERE. Large fleets are mostly idle vehicles."""
    nveh = state.lens.shape[0]
    twin = np.full(nveh, NOWHERE, dtype=np.int64)
    reps = np.empty(nveh, dtype=np.int64)
    n_reps = 0
    for k in range(nveh):
        if state.lens[k] > 0:
            continue
        for x in range(n_reps):
            if _same_vehicle(k, reps[x], data):
                twin[k] = reps[x]
                break
        if twin[k] == NOWHERE:
            reps[n_reps] = k
            n_reps += 1
    return twin


@njit(cache=True)
def sequential(noise, pending, state, data, ws):  # type: ignore[no-untyped-def]
    """Insert the pending requests one at a time in their order, each where it
    costs least then (costs blurred by ``noise``); no request is priced twice in a
    route, so on long routes a pass costs a fraction of a regret repair's."""
    nveh = state.lens.shape[0]
    twin = empty_twins(state, data)
    out = ws.out
    for a in range(pending.shape[0]):
        r = pending[a]
        best, best_k, best_i, best_j = np.inf, NOWHERE, NOWHERE, NOWHERE
        for k in range(nveh):
            if not data.allowed[r, k]:
                continue
            e = twin[k]
            if e != NOWHERE and data.allowed[r, e]:
                continue  # an empty vehicle alike was priced
            best_insertion(r, k, state, data, ws, out)
            c = _noisy(out[0], noise)
            if c < best:
                best, best_k, best_i, best_j = c, k, out[1], out[2]
        if best_k != NOWHERE:
            insert(r, best_k, best_i, best_j, state, data, ws)
            if state.lens[best_k] == 2:  # it was empty: its twins are priced now
                twin = empty_twins(state, data)


@njit(cache=True)
def repair(depth, noise, pending, state, data, ws):  # type: ignore[no-untyped-def]
    """Insert the pending requests: cheapest first (depth 1) or by largest
    regret-2/-3 (depth 2, 3), or in their order (depth 0: :func:`sequential`); what
    fits nowhere stays out."""
    if depth == 0:
        sequential(noise, pending, state, data, ws)
        return
    npend = pending.shape[0]
    nveh = state.lens.shape[0]
    allowed = data.allowed
    noisy = np.full((npend, nveh), np.inf)
    at_i = np.zeros((npend, nveh), dtype=np.int64)
    at_j = np.zeros((npend, nveh), dtype=np.int64)
    twin = empty_twins(state, data)
    for a in range(npend):
        r = pending[a]
        for k in range(nveh):
            if not allowed[r, k]:
                continue
            e = twin[k]
            if e != NOWHERE and allowed[r, e]:  # priced already
                noisy[a, k], at_i[a, k], at_j[a, k] = noisy[a, e], at_i[a, e], at_j[a, e]
            else:
                _price(a, k, pending, noise, state, data, ws, noisy, at_i, at_j)
    # each request's regret is summed up again only when its row changes
    regret, cheapest = np.empty(npend), np.empty(npend)
    route = np.empty(npend, dtype=np.int64)
    for a in range(npend):
        _urgency(a, depth, noisy, regret, cheapest, route)
    alive = np.ones(npend, dtype=np.bool_)
    for _ in range(npend):
        a = _most_urgent(alive, regret, cheapest, route)
        if a == NOWHERE:
            break
        k = route[a]
        insert(pending[a], k, at_i[a, k], at_j[a, k], state, data, ws)
        alive[a] = False
        # route k is priced again only for those that fitted in it: a request that
        # does not fit in a route does not fit once more stops are in it (on
        # travel times that keep the triangle inequality, as shortest paths do;
        # where rounding breaks it by a unit, one may miss a route it just fits)
        for b in range(npend):
            if alive[b] and noisy[b, k] < np.inf:
                _price(b, k, pending, noise, state, data, ws, noisy, at_i, at_j)
                _urgency(b, depth, noisy, regret, cheapest, route)


@njit(cache=True)
def incomplete(state, together, blocked):  # type: ignore[no-untyped-def]
    """Mark in ``blocked`` the sets with some requests served and some not; returns
    how many requests of such sets are served."""
    where = state.where
    n = where.shape[0]
    size = np.zeros(n, dtype=np.int64)
    served = np.zeros(n, dtype=np.int64)
    for r in range(n):
        size[together[r]] += 1
        if where[r] != NOWHERE:
            served[together[r]] += 1
    count = 0
    for r in range(n):
        t = together[r]
        if 0 < served[t] < size[t]:
            blocked[t] = True
            if where[r] != NOWHERE:
                count += 1
    return count


@njit(cache=True)
def repair_whole(depth, noise, pending, state, data, ws):  # type: ignore[no-untyped-def]
    """Insert the pending requests (see :func:`repair`), keeping every set whole:
    a set that could not be inserted whole is taken out again, and what its parts
    held is offered to the other pending requests once more. False if taking a set
    out left a route without a schedule."""
    repair(depth, noise, pending, state, data, ws)
    where, together = state.where, data.together
    n = where.shape[0]
    blocked = np.zeros(n, dtype=np.bool_)
    for round_ in range(2):
        if incomplete(state, together, blocked) == 0:
            return True
        out = np.empty(n, dtype=np.int64)
        count = 0
        for r in range(n):
            if where[r] != NOWHERE and blocked[together[r]]:
                out[count] = r
                count += 1
        if not take_out(out, count, state, data, ws):
            return False
        if round_ == 0:
            rest = np.empty(n, dtype=np.int64)
            m = 0
            for a in range(pending.shape[0]):
                r = pending[a]
                if where[r] == NOWHERE and not blocked[together[r]]:
                    rest[m] = r
                    m += 1
            if m > 0:
                repair(depth, noise, rest[:m], state, data, ws)
    return True
