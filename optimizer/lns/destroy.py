"""Destroy operators: which served requests an iteration takes out, and taking
them out."""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizer.lns.arrays import (
    NOWHERE,
    RANDOM_REMOVAL,
    ROUTE_REMOVAL,
    STRING_REMOVAL,
    WORST_REMOVAL,
)
from optimizer.lns.routes import refresh, route_cost

#: Bias of worst and related removal towards the top of their lists.
WORST_POWER, RELATED_POWER = 3.0, 6.0


@njit(cache=True)
def pick_biased(order, n, count, power, chosen):  # type: ignore[no-untyped-def]
    """Choose ``count`` of ``order[:n]`` (best first), biased towards the front."""
    taken = 0
    while taken < count and n > 0:
        x = int((np.random.random() ** power) * n)
        chosen[taken] = order[x]
        taken += 1
        for y in range(x, n - 1):
            order[y] = order[y + 1]
        n -= 1
    return taken


@njit(cache=True)
def removal_gain(r, state, data):  # type: ignore[no-untyped-def]
    """Cost saved by taking request ``r`` out of its route."""
    k = state.where[r]
    p = data.nd + 2 * r
    m = state.lens[k]
    route = state.routes[k]
    if m == 2:
        return route_cost(route, m, k, data)
    c, prof = data.cost, data.v_prof[k]
    before = 0
    after = 0
    prev = data.v_start[k]
    prev_kept = prev
    for x in range(m):
        node = route[x]
        before += c[prof, prev, node]
        prev = node
        if node != p and node != p + 1:
            after += c[prof, prev_kept, node]
            prev_kept = node
    end = data.v_end[k]
    return before + c[prof, prev, end] - after - c[prof, prev_kept, end]


@njit(cache=True)
def _relatedness(order, n, state, data, keys):  # type: ignore[no-untyped-def]
    """Fill ``keys`` with how far each of ``order[:n]`` is from a random one of
    them, in driving time and service times."""
    where, d, t = state.where, data.nd, data.travel
    starts = np.empty(data.early.shape[0], dtype=np.int64)  # per served node
    for k in range(state.lens.shape[0]):
        for x in range(state.lens[k]):
            starts[state.routes[k, x]] = state.earliest[k, x + 1]
    seed = order[int(np.random.random() * n)]
    prof = data.v_prof[where[seed]]
    ps = d + 2 * seed
    for x in range(n):
        p = d + 2 * order[x]
        far = t[prof, ps, p] + t[prof, ps + 1, p + 1]
        keys[x] = far + abs(starts[p] - starts[ps]) + abs(starts[p + 1] - starts[ps + 1])


@njit(cache=True)
def strings(count, ranked, n, state, data, removed):  # type: ignore[no-untyped-def]
    """Take out runs of consecutive stops, one per route, from the routes of the
    requests ``ranked[:n]`` in that order (closest first to a random one, by
    :func:`_relatedness`): each run holds such a request's pickup and up to twice as
    many stops as requests are still to go; a request goes out whole when one of its
    stops is in a run. Stops at ``count`` requests, or with fewer when every route
    has given its run. After the string removals of Christiaens and Vanden Berghe
    (Transportation Science, 2020): a region of several routes is rebuilt at once,
    where scattered removals leave long routes much as they were."""
    d, where, routes, lens = data.nd, state.where, state.routes, state.lens
    out = np.zeros(where.shape[0], dtype=np.bool_)
    cut = np.zeros(lens.shape[0], dtype=np.bool_)
    taken = 0
    for x in range(n):
        r = ranked[x]
        k = where[r]
        if taken == count:
            break
        if cut[k]:  # (a request already out was in a route already cut)
            continue
        cut[k] = True
        m = lens[k]
        at = 0
        while routes[k, at] != d + 2 * r:
            at += 1
        length = 1 + int(np.random.random() * min(m, 2 * (count - taken)))
        first = min(max(0, at - int(np.random.random() * length)), m - length)
        for y in range(first, first + length):
            s = (routes[k, y] - d) // 2
            if not out[s] and taken < count:
                out[s] = True
                removed[taken] = s
                taken += 1
    return taken


@njit(cache=True)
def destroy(op, count, state, data, removed, order, keys):  # type: ignore[no-untyped-def]
    """Choose up to ``count`` served requests to remove with operator ``op`` (see
    :mod:`optimizer.lns.arrays`), into ``removed``; returns how many."""
    where = state.where
    n = 0
    for r in range(where.shape[0]):
        if where[r] != NOWHERE:
            order[n] = r
            n += 1
    count = min(count, n)
    if count == 0:
        return 0
    if op == RANDOM_REMOVAL:
        for x in range(count):
            y = x + int(np.random.random() * (n - x))
            order[x], order[y] = order[y], order[x]
            removed[x] = order[x]
        return count
    if op == ROUTE_REMOVAL:
        k = where[order[int(np.random.random() * n)]]
        taken = 0
        for x in range(n):
            if where[order[x]] == k:
                removed[taken] = order[x]
                taken += 1
        return taken
    if op == WORST_REMOVAL:
        for x in range(n):
            keys[x] = -removal_gain(order[x], state, data)
        power = WORST_POWER
    else:  # related and string removal: closest to a random request first
        _relatedness(order, n, state, data, keys)
        power = RELATED_POWER
    order[:n] = order[:n][np.argsort(keys[:n])]
    if op == STRING_REMOVAL:
        return strings(count, order, n, state, data, removed)
    return pick_biased(order, n, count, power, removed)


@njit(cache=True)
def take_out(removed, count, state, data, ws):  # type: ignore[no-untyped-def]
    """Remove the chosen requests from their routes; False if a shortened route
    has no schedule (possible only with travel times that break the triangle
    inequality)."""
    routes, lens, where = state.routes, state.lens, state.where
    d = data.nd
    nveh = lens.shape[0]
    touched = np.zeros(nveh, dtype=np.bool_)
    for x in range(count):
        r = removed[x]
        touched[where[r]] = True
        where[r] = NOWHERE
    ok = True
    for k in range(nveh):
        if touched[k]:
            n = 0
            for x in range(lens[k]):
                node = routes[k, x]
                if where[(node - d) // 2] != NOWHERE:
                    routes[k, n] = node
                    n += 1
            lens[k] = n
            ok &= refresh(k, state, data, ws)
    return ok
