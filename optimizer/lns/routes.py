"""One route: its exact schedule, its cost, and the cheapest insertion of a request.

Feasibility of a route is decided exactly by the least solution of its difference
constraints: start every stop as early as possible; where a ride or the route is too
long, raise the earliest start of the pickup (or of the departure) and repeat. Every
rule only ever pushes times later, so the iteration reaches the earliest feasible
schedule when there is one, and otherwise passes a closing time (or runs out of
rounds, and the route is refused: never accepted wrongly). Insertions are first
filtered by cheap necessary tests (seats, windows against the route's earliest and
latest times, the shortest possible ride); the full schedule is computed only for a
candidate cheaper than the best found so far, and not at all when no request has a
ride limit and the vehicle no duration limit: the window tests are then exact
(earliest starts forward, latest starts backward, seats on board). A pickup
position whose detour alone costs as much as the best insertion found is skipped:
a drop-off's detour is never negative where costs keep the triangle inequality
(where they do not, a cheaper insertion may be missed; a route is never accepted
wrongly).
"""

from __future__ import annotations

from numba import njit

from optimizer.lns.arrays import BIG, NOWHERE

#: Rounds of the schedule fixpoint before a route is refused.
MAX_ROUNDS = 64


@njit(cache=True)
def schedule(seq, m, k, data, b, lb, pos):  # type: ignore[no-untyped-def]
    """Earliest feasible service starts of route ``seq[:m]`` of vehicle ``k``.

    Fills ``b`` (positions 0..m+1, depots included) and returns whether the route is
    feasible; ``lb`` and ``pos`` are scratch arrays.
    """
    d, t, late, service, ride = data.nd, data.travel, data.late, data.service, data.ride
    start, end, prof = data.v_start[k], data.v_end[k], data.v_prof[k]
    load = 0
    for i in range(m):
        node = seq[i]
        load += data.demand[node]
        if load > data.v_cap[k]:
            return False
        pos[node] = i + 1
        lb[i + 1] = data.early[node]
    lb[0] = data.v_early[k]
    for _ in range(MAX_ROUNDS):
        prev = start
        dep = lb[0]
        b[0] = dep
        for i in range(m):
            node = seq[i]
            a = dep + t[prof, prev, node]
            bi = a if a > lb[i + 1] else lb[i + 1]
            if bi > late[node]:
                return False
            b[i + 1] = bi
            dep = bi + service[node]
            prev = node
        a = dep + t[prof, prev, end]
        if a > data.v_late[k]:
            return False
        b[m + 1] = a
        changed = False
        for i in range(m):
            node = seq[i]
            if (node - d) % 2 == 1:
                r = (node - d) // 2
                if ride[r] < BIG:
                    pi = pos[node - 1]
                    need = b[i + 1] - service[node - 1] - ride[r]
                    if need > b[pi]:
                        lb[pi] = need
                        changed = True
        v_dur = data.v_dur[k]
        if v_dur < BIG and b[m + 1] - v_dur > b[0]:
            lb[0] = b[m + 1] - v_dur
            changed = True
        if not changed:
            return True
    return False


@njit(cache=True)
def route_cost(seq, m, k, data):  # type: ignore[no-untyped-def]
    """Arc costs of route ``seq[:m]`` of vehicle ``k``, and its fixed cost if used."""
    if m == 0:
        return 0
    c, prof = data.cost, data.v_prof[k]
    total = data.v_fixed[k]
    prev = data.v_start[k]
    for i in range(m):
        total += c[prof, prev, seq[i]]
        prev = seq[i]
    return total + c[prof, prev, data.v_end[k]]


@njit(cache=True)
def refresh(k, state, data, ws):  # type: ignore[no-untyped-def]
    """Recompute schedule, latest starts, loads and cost of route ``k``; whether
    it is feasible."""
    routes, latest, loads = state.routes, state.latest, state.loads
    t, service, prof = data.travel, data.service, data.v_prof[k]
    m = state.lens[k]
    ok = schedule(routes[k], m, k, data, state.earliest[k], ws.lb, ws.pos)
    # latest start of each position that keeps the later windows (ride times aside)
    latest[k, m + 1] = data.v_late[k]
    nxt = data.v_end[k]
    for i in range(m - 1, -1, -1):
        node = routes[k, i]
        x = latest[k, i + 2] - service[node] - t[prof, node, nxt]
        latest[k, i + 1] = min(data.late[node], x)
        nxt = node
    latest[k, 0] = min(data.v_late[k], latest[k, 1] - t[prof, data.v_start[k], nxt])
    load = 0
    loads[k, 0] = 0
    for i in range(m):
        load += data.demand[routes[k, i]]
        loads[k, i + 1] = load
    loads[k, m + 1] = 0
    state.rcost[k] = route_cost(routes[k], m, k, data)
    return ok


@njit(cache=True)
def build(seq, m, i, j, p, q, cand):  # type: ignore[no-untyped-def]
    """Route ``seq[:m]`` with ``p`` after position ``i`` and ``q`` after ``j``, in
    ``cand``; returns its length."""
    n = 0
    if i == 0:
        cand[n] = p
        n += 1
    if j == 0:
        cand[n] = q
        n += 1
    for x in range(m):
        cand[n] = seq[x]
        n += 1
        if x + 1 == i:
            cand[n] = p
            n += 1
        if x + 1 == j:
            cand[n] = q
            n += 1
    return n


@njit(cache=True)
def insert(r, k, i, j, state, data, ws):  # type: ignore[no-untyped-def]
    """Put request ``r`` into route ``k``: pickup after position ``i``, drop-off
    after ``j`` (see :func:`best_insertion`)."""
    p = data.nd + 2 * r
    m = build(state.routes[k], state.lens[k], i, j, p, p + 1, ws.cand)
    state.routes[k, :m] = ws.cand[:m]
    state.lens[k] = m
    state.where[r] = k
    refresh(k, state, data, ws)


@njit(cache=True)
def _fits(seq, m, i, j, p, q, k, data, ws):  # type: ignore[no-untyped-def]
    n = build(seq, m, i, j, p, q, ws.cand)
    return schedule(ws.cand, n, k, data, ws.sched, ws.lb, ws.pos)


@njit(cache=True)
def _first_pickup_position(k, m, ready, latest):  # type: ignore[no-untyped-def]
    """The first position ``i`` a pickup may follow in route ``k`` (of ``m`` stops)
    when the stop after it can start no earlier than ``ready``: whatever follows the
    pickup (its drop-off, then position ``i + 1``) starts at ``ready`` or later, so
    ``latest[k, i + 1]`` must be ``ready`` at least. Latest starts only grow along a
    route, so this is a bisection: on long routes with narrow windows most positions
    are before it. (Written out: ``np.searchsorted`` on the row made a8-80's 20,000
    iterations 5.5-5.8 s instead of 4.6-4.8 s.)"""
    lo, hi = 0, m
    while lo < hi:
        mid = (lo + hi) // 2
        if latest[k, mid + 1] < ready:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def best_insertion(r, k, state, data, ws, out, any_will_do=False):  # type: ignore[no-untyped-def]
    """Cheapest feasible insertion of request ``r`` into route ``k`` (with
    ``any_will_do``: the first feasible one found).

    Writes (cost increase, pickup position, drop-off position) into ``out``; the
    cost is BIG and the positions NOWHERE when there is none. The pickup goes after
    position ``i`` (0 = the start depot), the drop-off after position ``j >= i`` of
    the current route.
    """
    earliest, latest, loads = state.earliest, state.latest, state.loads
    t, c, early, late, service = data.travel, data.cost, data.early, data.late, data.service
    out[0] = BIG
    out[1] = NOWHERE
    out[2] = NOWHERE
    p = data.nd + 2 * r
    q = p + 1
    m = state.lens[k]
    seq = state.routes[k]
    cap, start, end, prof = data.v_cap[k], data.v_start[k], data.v_end[k], data.v_prof[k]
    fixed = data.v_fixed[k] if m == 0 else 0
    seats = data.demand[p]
    ride_r = data.ride[r]
    # without ride and duration limits the window tests below are exact
    exact = not data.ride_limits and data.v_dur[k] >= BIG
    for i in range(_first_pickup_position(k, m, early[p] + service[p], latest), m + 1):
        if earliest[k, i] > late[p]:
            break  # later positions only start later
        if loads[k, i] + seats > cap:
            continue
        ni = start if i == 0 else seq[i - 1]
        si = 0 if i == 0 else service[ni]
        bp = max(early[p], earliest[k, i] + si + t[prof, ni, p])
        if bp > late[p]:
            continue
        nn = end if i == m else seq[i]
        base = fixed + c[prof, ni, p] + c[prof, p, nn] - c[prof, ni, nn]
        if base >= out[0]:
            continue  # a drop-off detour costs at least nothing (triangle inequality)
        # drop-off right after the pickup
        bq = max(early[q], bp + service[p] + t[prof, p, q])
        if bq <= late[q] and bq + service[q] + t[prof, q, nn] <= latest[k, i + 1]:
            delta = fixed + c[prof, ni, p] + c[prof, p, q] + c[prof, q, nn] - c[prof, ni, nn]
            if delta < out[0] and (exact or _fits(seq, m, i, i, p, q, k, data, ws)):
                out[0] = delta
                out[1] = i
                out[2] = i
                if any_will_do:
                    return
        if i == m:
            continue
        # drop-off after position j > i
        bj = max(earliest[k, i + 1], bp + service[p] + t[prof, p, nn])
        path = t[prof, p, nn]  # shortest possible ride up to position j
        prev = nn
        for j in range(i + 1, m + 1):
            nj = seq[j - 1]
            if j > i + 1:
                bj = max(earliest[k, j], bj + service[prev] + t[prof, prev, nj])
                path += service[prev] + t[prof, prev, nj]
                prev = nj
            if bj > latest[k, j] or bj > late[q] or loads[k, j] + seats > cap or path > ride_r:
                break  # (the drop-off comes after position j, which only gets later)
            nk = end if j == m else seq[j]
            bq = max(early[q], bj + service[nj] + t[prof, nj, q])
            if bq > late[q] or path + service[nj] + t[prof, nj, q] > ride_r:
                continue
            if bq + service[q] + t[prof, q, nk] > latest[k, j + 1]:
                continue
            delta = base + c[prof, nj, q] + c[prof, q, nk] - c[prof, nj, nk]
            if delta < out[0] and (exact or _fits(seq, m, i, j, p, q, k, data, ws)):
                out[0] = delta
                out[1] = i
                out[2] = j
                if any_will_do:
                    return
