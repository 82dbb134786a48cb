"""Large-neighbourhood search for the dial-a-ride problem, compiled with numba.

OR-Tools' generic moves rarely respect ride times (see
``../shared/notes/optimizer-findings.md``): almost every candidate it tries is
rejected. This search works on whole requests instead: it removes a few (at random,
the costliest to keep, related ones: close in space and time, or a whole route) and
re-inserts them by greedy or regret insertion, with or without noise, and accepts the
result by simulated annealing; the methods are chosen by adaptive weights, after
Ropke and Pisinger's adaptive large-neighbourhood search (Transportation Science, 2006).

Feasibility of a route is decided exactly by the least solution of its difference
constraints: start every stop as early as possible; where a ride or the route is too
long, raise the earliest start of the pickup (or of the departure) and repeat. Every
rule only ever pushes times later, so the iteration reaches the earliest feasible
schedule when there is one, and otherwise passes a closing time (or runs out of
rounds, and the route is refused: never accepted wrongly). Insertions are first
filtered by cheap necessary tests (seats, windows against the route's earliest and
latest times, the shortest possible ride); the full schedule is computed only for a
candidate cheaper than the best found so far.

The model is :mod:`optimizer.solve`'s: nodes are depots, then one pickup/drop-off
pair per request part, with the same tightened windows and the same objective
(penalties for unserved seats, fixed costs, arc costs), so the results compare.

The compiled functions take the model as one tuple, ``data``::

    (nd, travel, cost, early, late, service, demand, ride,
     v_cap, v_start, v_end, v_early, v_late, v_dur, v_prof, v_fixed)

and a solution as ``state = (routes, lens, where, earliest_start, latest_start,
loads, rcost)``: per vehicle the nodes in order, their number, the vehicle of each
request (-1 none), earliest and latest service starts and loads per position (0 =
start depot), and the route's cost. (``lat`` and ``lon`` elsewhere in the project are
coordinates; times here are named for what they are.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["BIG", "PLATEAU_MIN_ITERATIONS", "LnsData", "LnsResult", "improve", "warm_up"]

I64 = npt.NDArray[np.int64]

#: Stands for "no limit" in the compiled code.
BIG = 1 << 60
#: Rounds of the schedule fixpoint before a route is refused.
_MAX_ROUNDS = 64
#: Adaptive weights: scores for a new best, a better and an accepted worse plan.
_SCORE_BEST, _SCORE_BETTER, _SCORE_ACCEPTED = 33.0, 9.0, 3.0
#: Iterations between weight updates, and the weight given to the last period.
_PERIOD, _REACTION = 100, 0.1
#: Bias of worst and related removal towards the top of their lists.
_WORST_POWER, _RELATED_POWER = 3.0, 6.0
#: Insertion noise, as a share of the largest arc cost.
_NOISE = 0.025
#: A timed search never stops for a plateau before this many iterations without a
#: better plan.
PLATEAU_MIN_ITERATIONS = 50_000
#: Once the plateau rule fires, the search cools down for this share of the time it
#: has used, then stops.
COOLING_SHARE = 0.25


@dataclass(frozen=True)
class LnsData:
    """The model in arrays.

    Node ``nd + 2 r`` is the pickup of request ``r`` and ``nd + 2 r + 1`` its
    drop-off; nodes below ``nd`` are depots. Times and costs are integers; ``BIG``
    stands for "no limit" in ``ride`` and ``v_dur``.
    """

    nd: int
    travel: I64  # profiles x nodes x nodes
    cost: I64  # profiles x nodes x nodes
    early: I64  # per node
    late: I64
    service: I64
    demand: I64
    ride: I64  # per request
    penalty: I64  # per request: cost of leaving it out
    v_cap: I64  # per vehicle
    v_start: I64
    v_end: I64
    v_early: I64
    v_late: I64
    v_dur: I64
    v_prof: I64
    v_fixed: I64
    allowed: npt.NDArray[np.bool_]  # requests x vehicles
    #: per request: the first request of the set it is served with, all or none (a
    #: crew in several parts); None: every request on its own
    together: I64 | None = None

    def sets(self) -> I64:
        """``together``, or each request its own set."""
        if self.together is None:
            return np.arange(len(self.ride), dtype=np.int64)
        return self.together

    def arrays(self) -> tuple[Any, ...]:
        """The ``data`` tuple of the compiled functions."""
        return (
            np.int64(self.nd),
            self.travel,
            self.cost,
            self.early,
            self.late,
            self.service,
            self.demand,
            self.ride,
            self.v_cap,
            self.v_start,
            self.v_end,
            self.v_early,
            self.v_late,
            self.v_dur,
            self.v_prof,
            self.v_fixed,
        )


# --------------------------------------------------------------------------- routes


@njit(cache=True)
def _schedule(seq, m, k, data, b, lb, pos):  # type: ignore[no-untyped-def]
    """Earliest feasible service starts of route ``seq[:m]`` of vehicle ``k``.

    Fills ``b`` (positions 0..m+1, depots included) and returns whether the route is
    feasible; ``lb`` and ``pos`` are scratch arrays.
    """
    d, t, _, early, late, service, demand, ride = data[:8]
    cap, start, end = data[8][k], data[9][k], data[10][k]
    v_early, v_late, v_dur, prof = data[11][k], data[12][k], data[13][k], data[14][k]
    load = 0
    for i in range(m):
        node = seq[i]
        load += demand[node]
        if load > cap:
            return False
        pos[node] = i + 1
        lb[i + 1] = early[node]
    lb[0] = v_early
    for _ in range(_MAX_ROUNDS):
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
        if a > v_late:
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
        if v_dur < BIG and b[m + 1] - v_dur > b[0]:
            lb[0] = b[m + 1] - v_dur
            changed = True
        if not changed:
            return True
    return False


@njit(cache=True)
def _route_cost(seq, m, k, data):  # type: ignore[no-untyped-def]
    if m == 0:
        return 0
    c, v_start, v_end, prof = data[2], data[9], data[10], data[14][k]
    total = data[15][k]
    prev = v_start[k]
    for i in range(m):
        total += c[prof, prev, seq[i]]
        prev = seq[i]
    return total + c[prof, prev, v_end[k]]


@njit(cache=True)
def _refresh(k, state, data, ws):  # type: ignore[no-untyped-def]
    """Recompute schedule, latest starts, loads and cost of route ``k``."""
    routes, lens, _, earliest_start, latest_start, loads, rcost = state
    t, late, service, demand = data[1], data[4], data[5], data[6]
    lb, pos = ws[0], ws[1]
    m = lens[k]
    ok = _schedule(routes[k], m, k, data, earliest_start[k], lb, pos)
    prof, start, end, v_late = data[14][k], data[9][k], data[10][k], data[12][k]
    # latest start of each position that keeps the later windows (ride times aside)
    latest_start[k, m + 1] = v_late
    nxt = end
    for i in range(m - 1, -1, -1):
        node = routes[k, i]
        x = latest_start[k, i + 2] - service[node] - t[prof, node, nxt]
        latest_start[k, i + 1] = min(late[node], x)
        nxt = node
    latest_start[k, 0] = min(v_late, latest_start[k, 1] - t[prof, start, nxt])
    load = 0
    loads[k, 0] = 0
    for i in range(m):
        load += demand[routes[k, i]]
        loads[k, i + 1] = load
    loads[k, m + 1] = 0
    rcost[k] = _route_cost(routes[k], m, k, data)
    return ok


@njit(cache=True)
def _build(seq, m, i, j, p, q, cand):  # type: ignore[no-untyped-def]
    """Route ``seq[:m]`` with ``p`` after position ``i`` and ``q`` after ``j``."""
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
def _fits(seq, m, i, j, p, q, k, data, ws):  # type: ignore[no-untyped-def]
    lb, pos, cand, sched = ws[0], ws[1], ws[2], ws[3]
    n = _build(seq, m, i, j, p, q, cand)
    return _schedule(cand, n, k, data, sched, lb, pos)


@njit(cache=True)
def _best_insertion(r, k, state, data, ws, out):  # type: ignore[no-untyped-def]
    """Cheapest feasible insertion of request ``r`` into route ``k``.

    Writes (cost increase, pickup position, drop-off position) into ``out``; the
    cost is BIG when there is none. The pickup goes after position ``i`` (0 = the
    start depot), the drop-off after position ``j >= i`` of the current route.
    """
    routes, lens, _, earliest_start, latest_start, loads, _ = state
    d, t, c, early, late, service, demand, ride = data[:8]
    out[0] = BIG
    out[1] = -1
    out[2] = -1
    p = d + 2 * r
    q = p + 1
    m = lens[k]
    seq = routes[k]
    cap, start, end, prof = data[8][k], data[9][k], data[10][k], data[14][k]
    fixed = data[15][k] if m == 0 else 0
    seats = demand[p]
    ride_r = ride[r]
    for i in range(m + 1):
        if earliest_start[k, i] > late[p]:
            break  # later positions only start later
        if loads[k, i] + seats > cap:
            continue
        ni = start if i == 0 else seq[i - 1]
        si = 0 if i == 0 else service[ni]
        bp = max(early[p], earliest_start[k, i] + si + t[prof, ni, p])
        if bp > late[p]:
            continue
        nn = end if i == m else seq[i]
        # drop-off right after the pickup
        bq = max(early[q], bp + service[p] + t[prof, p, q])
        if bq <= late[q] and bq + service[q] + t[prof, q, nn] <= latest_start[k, i + 1]:
            delta = fixed + c[prof, ni, p] + c[prof, p, q] + c[prof, q, nn] - c[prof, ni, nn]
            if delta < out[0] and _fits(seq, m, i, i, p, q, k, data, ws):
                out[0] = delta
                out[1] = i
                out[2] = i
        if i == m:
            continue
        # drop-off after position j > i
        base = fixed + c[prof, ni, p] + c[prof, p, nn] - c[prof, ni, nn]
        bj = max(earliest_start[k, i + 1], bp + service[p] + t[prof, p, nn])
        path = t[prof, p, nn]  # shortest possible ride up to position j
        prev = nn
        for j in range(i + 1, m + 1):
            nj = seq[j - 1]
            if j > i + 1:
                bj = max(earliest_start[k, j], bj + service[prev] + t[prof, prev, nj])
                path += service[prev] + t[prof, prev, nj]
                prev = nj
            if bj > latest_start[k, j] or loads[k, j] + seats > cap or path > ride_r:
                break
            nk = end if j == m else seq[j]
            bq = max(early[q], bj + service[nj] + t[prof, nj, q])
            if bq > late[q] or path + service[nj] + t[prof, nj, q] > ride_r:
                continue
            if bq + service[q] + t[prof, q, nk] > latest_start[k, j + 1]:
                continue
            delta = base + c[prof, nj, q] + c[prof, q, nk] - c[prof, nj, nk]
            if delta < out[0] and _fits(seq, m, i, j, p, q, k, data, ws):
                out[0] = delta
                out[1] = i
                out[2] = j


# --------------------------------------------------------------------------- destroy


@njit(cache=True)
def _pick_biased(order, n, count, power, chosen):  # type: ignore[no-untyped-def]
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
def _removal_gain(r, state, data):  # type: ignore[no-untyped-def]
    """Cost saved by taking request ``r`` out of its route."""
    routes, lens, where = state[0], state[1], state[2]
    d, c = data[0], data[2]
    k = where[r]
    p = d + 2 * r
    m = lens[k]
    if m == 2:
        return _route_cost(routes[k], m, k, data)
    prof, start, end = data[14][k], data[9][k], data[10][k]
    before = 0
    after = 0
    prev = start
    prev_kept = start
    for x in range(m):
        node = routes[k, x]
        before += c[prof, prev, node]
        prev = node
        if node != p and node != p + 1:
            after += c[prof, prev_kept, node]
            prev_kept = node
    return before + c[prof, prev, end] - after - c[prof, prev_kept, end]


@njit(cache=True)
def _service_times(r, state, data):  # type: ignore[no-untyped-def]
    routes, lens, where, earliest_start = state[0], state[1], state[2], state[3]
    k = where[r]
    p = data[0] + 2 * r
    tp = 0
    tq = 0
    for x in range(lens[k]):
        if routes[k, x] == p:
            tp = earliest_start[k, x + 1]
        elif routes[k, x] == p + 1:
            tq = earliest_start[k, x + 1]
    return tp, tq


@njit(cache=True)
def _destroy(op, count, state, data, removed, order, keys):  # type: ignore[no-untyped-def]
    """Choose up to ``count`` served requests to remove: at random (op 0), the
    costliest to keep (op 1), related to a random one (op 2), or all of a random
    route (op 3: a vehicle fewer, if the others can take them)."""
    where = state[2]
    d, t = data[0], data[1]
    n = 0
    for r in range(where.shape[0]):
        if where[r] >= 0:
            order[n] = r
            n += 1
    count = min(count, n)
    if count == 0:
        return 0
    if op == 0:
        for x in range(count):
            y = x + int(np.random.random() * (n - x))
            order[x], order[y] = order[y], order[x]
            removed[x] = order[x]
        return count
    if op == 3:
        k = where[order[int(np.random.random() * n)]]
        taken = 0
        for x in range(n):
            if where[order[x]] == k:
                removed[taken] = order[x]
                taken += 1
        return taken
    if op == 1:
        for x in range(n):
            keys[x] = -_removal_gain(order[x], state, data)
        power = _WORST_POWER
    else:
        seed = order[int(np.random.random() * n)]
        prof = data[14][where[seed]]
        ps = d + 2 * seed
        tp_s, tq_s = _service_times(seed, state, data)
        for x in range(n):
            r = order[x]
            p = d + 2 * r
            tp, tq = _service_times(r, state, data)
            keys[x] = t[prof, ps, p] + t[prof, ps + 1, p + 1] + abs(tp - tp_s) + abs(tq - tq_s)
        power = _RELATED_POWER
    ranked = order[:n][np.argsort(keys[:n])]
    order[:n] = ranked
    return _pick_biased(order, n, count, power, removed)


@njit(cache=True)
def _take_out(removed, count, state, data, ws):  # type: ignore[no-untyped-def]
    """Remove the chosen requests from their routes; False if a shortened route
    has no schedule (possible only with travel times that break the triangle
    inequality)."""
    routes, lens, where = state[0], state[1], state[2]
    d = data[0]
    nveh = lens.shape[0]
    touched = np.zeros(nveh, dtype=np.bool_)
    for x in range(count):
        r = removed[x]
        touched[where[r]] = True
        where[r] = -1
    ok = True
    for k in range(nveh):
        if touched[k]:
            n = 0
            for x in range(lens[k]):
                node = routes[k, x]
                if where[(node - d) // 2] >= 0:
                    routes[k, n] = node
                    n += 1
            lens[k] = n
            ok &= _refresh(k, state, data, ws)
    return ok


# --------------------------------------------------------------------------- repair


@njit(cache=True)
def _noisy(cost, noise):  # type: ignore[no-untyped-def]
    if cost >= BIG:
        return np.inf
    return max(0.0, cost + noise * (2.0 * np.random.random() - 1.0))


@njit(cache=True)
def _repair(depth, noise, pending, state, data, allowed, ws):  # type: ignore[no-untyped-def]
    """Insert the pending requests: cheapest first (depth 1) or by largest
    regret-2/-3 (depth 2, 3); what fits nowhere stays out."""
    routes, lens, where = state[0], state[1], state[2]
    d = data[0]
    cand = ws[2]
    out = ws[4]
    npend = pending.shape[0]
    nveh = lens.shape[0]
    noisy = np.full((npend, nveh), np.inf)
    at_i = np.zeros((npend, nveh), dtype=np.int64)
    at_j = np.zeros((npend, nveh), dtype=np.int64)
    for a in range(npend):
        for k in range(nveh):
            if allowed[pending[a], k]:
                _best_insertion(pending[a], k, state, data, ws, out)
                noisy[a, k] = _noisy(out[0], noise)
                at_i[a, k] = out[1]
                at_j[a, k] = out[2]
    alive = np.ones(npend, dtype=np.bool_)
    for _ in range(npend):
        best_a = -1
        best_k = -1
        best_regret = -1.0
        best_c1 = np.inf
        for a in range(npend):
            if not alive[a]:
                continue
            c1 = c2 = c3 = np.inf
            k1 = -1
            for k in range(nveh):
                x = noisy[a, k]
                if x < c1:
                    c3, c2, c1, k1 = c2, c1, x, k
                elif x < c2:
                    c3, c2 = c2, x
                elif x < c3:
                    c3 = x
            if k1 < 0:
                continue
            regret = 0.0
            if depth >= 2:
                regret += (c2 - c1) if c2 < np.inf else 1e18
            if depth >= 3:
                regret += (c3 - c1) if c3 < np.inf else 1e18
            if regret > best_regret or (regret == best_regret and c1 < best_c1):
                best_regret, best_c1, best_a, best_k = regret, c1, a, k1
        if best_a < 0:
            break
        r = pending[best_a]
        k = best_k
        p = d + 2 * r
        m = _build(routes[k], lens[k], at_i[best_a, k], at_j[best_a, k], p, p + 1, cand)
        routes[k, :m] = cand[:m]
        lens[k] = m
        where[r] = k
        alive[best_a] = False
        _refresh(k, state, data, ws)
        for a in range(npend):
            if alive[a] and allowed[pending[a], k]:
                _best_insertion(pending[a], k, state, data, ws, out)
                noisy[a, k] = _noisy(out[0], noise)
                at_i[a, k] = out[1]
                at_j[a, k] = out[2]


@njit(cache=True)
def _incomplete(state, together, blocked):  # type: ignore[no-untyped-def]
    """Mark in ``blocked`` the sets with some requests served and some not; returns
    how many requests of such sets are served."""
    where = state[2]
    n = where.shape[0]
    size = np.zeros(n, dtype=np.int64)
    served = np.zeros(n, dtype=np.int64)
    for r in range(n):
        size[together[r]] += 1
        if where[r] >= 0:
            served[together[r]] += 1
    count = 0
    for r in range(n):
        t = together[r]
        if 0 < served[t] < size[t]:
            blocked[t] = True
            if where[r] >= 0:
                count += 1
    return count


@njit(cache=True)
def _repair_whole(depth, noise, pending, state, data, allowed, together, ws):  # type: ignore[no-untyped-def]
    """Insert the pending requests (see :func:`_repair`), keeping every set whole:
    a set that could not be inserted whole is taken out again, and what its parts
    held is offered to the other pending requests once more."""
    _repair(depth, noise, pending, state, data, allowed, ws)
    where = state[2]
    n = where.shape[0]
    blocked = np.zeros(n, dtype=np.bool_)
    for round_ in range(2):
        if _incomplete(state, together, blocked) == 0:
            return True
        out = np.empty(n, dtype=np.int64)
        count = 0
        for r in range(n):
            if where[r] >= 0 and blocked[together[r]]:
                out[count] = r
                count += 1
        if not _take_out(out, count, state, data, ws):
            return False
        if round_ == 0:
            rest = np.empty(n, dtype=np.int64)
            m = 0
            for a in range(pending.shape[0]):
                r = pending[a]
                if where[r] < 0 and not blocked[together[r]]:
                    rest[m] = r
                    m += 1
            if m > 0:
                _repair(depth, noise, rest[:m], state, data, allowed, ws)
    return True


# --------------------------------------------------------------------------- search


@njit(cache=True)
def _total(state, penalty):  # type: ignore[no-untyped-def]
    where, rcost = state[2], state[6]
    total = rcost.sum()
    for r in range(where.shape[0]):
        if where[r] < 0:
            total += penalty[r]
    return total


@njit(cache=True)
def _roulette(weights):  # type: ignore[no-untyped-def]
    x = np.random.random() * weights.sum()
    for i in range(weights.shape[0]):
        x -= weights[i]
        if x <= 0:
            return i
    return weights.shape[0] - 1


@njit(cache=True)
def _copy(src, dst):  # type: ignore[no-untyped-def]
    dst[0][:] = src[0]
    dst[1][:] = src[1]
    dst[2][:] = src[2]
    dst[3][:] = src[3]
    dst[4][:] = src[4]
    dst[5][:] = src[5]
    dst[6][:] = src[6]


@njit(cache=True)
def _seed(seed):  # type: ignore[no-untyped-def]
    np.random.seed(seed)


@njit(cache=True)
def _run(  # type: ignore[no-untyped-def]
    n_iter,
    temps,
    qrange,
    noise_level,
    data,
    allowed,
    together,
    penalty,
    cur,
    work,
    best,
    costs,
    adapt,
    ws,
):
    """``n_iter`` iterations of destroy, repair and annealing acceptance.

    ``temps`` = (start, end) temperatures of this batch; ``qrange`` = (fewest, most)
    requests removed; ``costs`` = [current, best], updated; ``adapt`` = (weights,
    scores, uses) of the 4 destroy and 6 repair methods (3 depths x noise).
    """
    weights, scores, uses = adapt
    nreq = cur[2].shape[0]
    removed = np.empty(nreq, dtype=np.int64)
    order = np.empty(nreq, dtype=np.int64)
    keys = np.empty(nreq, dtype=np.int64)
    ratio = temps[1] / temps[0] if temps[0] > 0 else 1.0
    for it in range(n_iter):
        temp = temps[0] * ratio ** (it / max(1, n_iter))
        _copy(cur, work)
        op_d = _roulette(weights[:4])
        op_r = _roulette(weights[4:])
        count = qrange[0] + int(np.random.random() * (qrange[1] - qrange[0] + 1))
        n_removed = _destroy(op_d, count, work, data, removed, order, keys)
        if not _take_out(removed, n_removed, work, data, ws):
            continue
        pending = np.flatnonzero(work[2] < 0)
        np.random.shuffle(pending)  # ties must not always favour the same requests
        noise = noise_level if op_r >= 3 else 0.0
        if not _repair_whole(op_r % 3 + 1, noise, pending, work, data, allowed, together, ws):
            continue
        new = _total(work, penalty)
        score = 0.0
        accept = False
        if new < costs[0]:
            accept = True
            score = _SCORE_BETTER
        elif temp > 0 and np.random.random() < np.exp(-(new - costs[0]) / temp):
            accept = new != costs[0]
            score = _SCORE_ACCEPTED if accept else 0.0
        if new < costs[1]:
            score = _SCORE_BEST
            _copy(work, best)
            costs[1] = new
        if accept:
            _copy(work, cur)
            costs[0] = new
        scores[op_d] += score
        scores[4 + op_r] += score
        uses[op_d] += 1
        uses[4 + op_r] += 1
        if (it + 1) % _PERIOD == 0:
            for x in range(weights.shape[0]):
                if uses[x] > 0:
                    learnt = scores[x] / uses[x]
                    weights[x] = max(0.05, (1 - _REACTION) * weights[x] + _REACTION * learnt)
                scores[x] = 0.0
                uses[x] = 0
    return costs[1]


# --------------------------------------------------------------------------- driver


def _workspace(n_nodes: int, max_len: int) -> tuple[I64, ...]:
    """Scratch arrays: lower bounds, positions, candidate route, its schedule, and
    an insertion result."""
    return (
        np.zeros(max_len + 2, dtype=np.int64),
        np.zeros(n_nodes, dtype=np.int64),
        np.zeros(max_len, dtype=np.int64),
        np.zeros(max_len + 2, dtype=np.int64),
        np.zeros(3, dtype=np.int64),
    )


def _state(n_veh: int, n_req: int, max_len: int) -> tuple[I64, ...]:
    return (
        np.zeros((n_veh, max_len), dtype=np.int64),
        np.zeros(n_veh, dtype=np.int64),
        np.full(n_req, -1, dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros(n_veh, dtype=np.int64),
    )


@dataclass(frozen=True)
class LnsResult:
    """Per vehicle the (node, service start) visits, depots included; the
    objective; the iterations run."""

    routes: list[list[tuple[int, int]]]
    objective: int
    iterations: int


def _start_state(
    data: LnsData, routes: list[list[int]], arrays: tuple[Any, ...], ws: tuple[I64, ...]
) -> tuple[I64, ...]:
    """The search's first solution: the given routes that are well formed and
    feasible, then every request left out inserted where it fits."""
    n_veh, n_req = len(data.v_cap), len(data.ride)
    cur = _state(n_veh, n_req, 2 * n_req)
    lens, where = cur[1], cur[2]
    for k, seq in enumerate(routes):
        # a route that is malformed, or serves a request twice or on a vehicle
        # that may not take it, is left out
        served = [(node - data.nd) // 2 for node in seq if (node - data.nd) % 2 == 0]
        if (
            _well_formed(seq, data.nd, n_req)
            and data.allowed[served, k].all()
            and (where[served] < 0).all()
        ):
            cur[0][k, : len(seq)] = seq
            lens[k] = len(seq)
            where[served] = k
    for k in range(n_veh):
        if not _refresh(k, cur, arrays, ws):
            where[where == k] = -1
            lens[k] = 0
            _refresh(k, cur, arrays, ws)
    # insert what is left out; a set served in part (by the given routes or the
    # insertion) is taken out
    for _ in range(2):
        pending = np.flatnonzero(where < 0)
        if _repair_whole(2, 0.0, pending, cur, arrays, data.allowed, data.sets(), ws):
            break
        # a route shortened by taking a set out has no schedule (only with travel
        # times that break the triangle inequality): empty it, and try again
        for k in range(n_veh):
            if not _refresh(k, cur, arrays, ws):
                where[where == k] = -1
                lens[k] = 0
                _refresh(k, cur, arrays, ws)
    return cur


@dataclass(frozen=True)
class _Schedule:
    """When the search stops and how its temperature falls (geometrically, from
    ``temp0`` at the start to ``temp1`` at the end of the budget)."""

    started: float
    time_limit_s: float
    iterations: int | None
    temp0: float
    temp1: float
    plateau: float | None = None

    def stale(self, done: int, improved_at: int) -> bool:
        """Whether a timed search has gone ``plateau`` times as many iterations
        without a better best as it took to find it (at least
        ``PLATEAU_MIN_ITERATIONS``)."""
        if self.plateau is None or self.iterations is not None:
            return False
        return done - improved_at >= max(PLATEAU_MIN_ITERATIONS, self.plateau * improved_at)

    def temperatures(self, frac0: float, frac1: float) -> npt.NDArray[np.float64]:
        ratio = self.temp1 / self.temp0
        return np.array([self.temp0 * ratio**frac0, self.temp0 * ratio**frac1], dtype=np.float64)


@dataclass
class _Cooling:
    """The last phase of a timed search the plateau rule ends: the temperature falls
    from where it is to the end temperature over a quarter of the time used so far
    (within the time limit), and the search stops then, cold. The schedule follows the
    time actually used: a long limit stopped early ends cooled like a short one."""

    at: float = -1.0  # when it started (seconds into the search); < 0: not cooling
    frac: float = 0.0  # the schedule's fraction then
    length: float = 0.0

    def start(self, elapsed: float, frac: float, left: float) -> None:
        self.at, self.frac = elapsed, frac
        self.length = max(1e-3, min(COOLING_SHARE * elapsed, left))

    def fraction(self, elapsed: float) -> float:
        """The schedule's fraction at ``elapsed``: 1 at the end of the phase."""
        done = min(1.0, (elapsed - self.at) / self.length)
        return self.frac + (1.0 - self.frac) * done


def _anneal(
    schedule: _Schedule,
    n_req: int,
    qrange: I64,
    noise: float,
    arrays: tuple[Any, ...],
    data: LnsData,
    cur: tuple[I64, ...],
    work: tuple[I64, ...],
    best: tuple[I64, ...],
    costs: I64,
    ws: tuple[I64, ...],
) -> int:
    """Run the compiled search in batches until the budget is spent; returns the
    iterations run (``best`` and ``costs`` hold the result)."""
    iterations, time_limit_s = schedule.iterations, schedule.time_limit_s
    adapt = (np.ones(10), np.zeros(10), np.zeros(10, dtype=np.int64))
    done = 0
    best_seen, improved_at = int(costs[1]), 0
    cooling = _Cooling()
    batch = 20
    per_iteration = 1e-3  # seconds, until measured
    while n_req > 0:
        if iterations is not None:
            if done >= iterations:
                break
            n = min(batch, iterations - done)
            frac0, frac1 = done / iterations, (done + n) / iterations
        else:
            elapsed = time.perf_counter() - schedule.started
            if elapsed >= time_limit_s or (cooling.at >= 0 and cooling.fraction(elapsed) >= 1):
                break
            # batches of about 2 % of the budget, the last one cut to what is left
            n = max(1, min(batch, int((time_limit_s - elapsed) / per_iteration)))
            if cooling.at >= 0:
                frac0 = cooling.fraction(elapsed)
                frac1 = cooling.fraction(elapsed + n * per_iteration)
            else:
                frac0 = elapsed / time_limit_s
                frac1 = min(1.0, (elapsed + n * per_iteration) / time_limit_s)
        temps = schedule.temperatures(frac0, frac1)
        tick = time.perf_counter()
        _run(
            n,
            temps,
            qrange,
            noise,
            arrays,
            data.allowed,
            data.sets(),
            data.penalty,
            cur,
            work,
            best,
            costs,
            adapt,
            ws,
        )
        done += n
        if costs[1] < best_seen:
            best_seen, improved_at = int(costs[1]), done
        elif schedule.stale(done, improved_at) and cooling.at < 0:
            elapsed = time.perf_counter() - schedule.started
            cooling.start(elapsed, frac1, time_limit_s - elapsed)
        if iterations is None:
            per_iteration = max(time.perf_counter() - tick, 1e-7) / n
            batch = max(1, min(10_000, int(0.02 * time_limit_s / per_iteration)))
    return done


def improve(
    data: LnsData,
    routes: list[list[int]],
    *,
    time_limit_s: float,
    seed: int = 0,
    iterations: int | None = None,
    start_temperature: float = 0.03,
    end_temperature: float = 0.001,
    max_removed_share: float = 0.3,
    plateau: float | None = None,
) -> LnsResult:
    """Improve a plan by large-neighbourhood search.

    Parameters
    ----------
    data
        The model in arrays.
    routes
        A starting plan: per vehicle the pickup and drop-off nodes in order (depots
        left out). A route the exact schedule refuses is emptied; requests in no
        route are inserted where they fit before the search starts.
    time_limit_s
        Wall-clock budget, unless ``iterations`` is given.
    seed
        Random seed.
    iterations
        Run exactly this many iterations (reproducible) instead of until the time
        limit.
    start_temperature, end_temperature
        Annealing temperatures as shares of the starting plan's arc cost: a plan
        worse by that much is accepted with probability 1/e.
    max_removed_share
        Most requests removed in one iteration, as a share of all (at most 40).
    plateau
        Stop before the time limit once the best plan has not improved for this
        many times the iterations it took to find it (at least
        ``PLATEAU_MIN_ITERATIONS``); ``None``: use the whole time limit.
    """
    started = time.perf_counter()
    arrays = data.arrays()
    n_veh, n_req = len(data.v_cap), len(data.ride)
    max_len = 2 * n_req
    ws = _workspace(int(data.early.shape[0]), max_len)
    _seed(seed)
    cur = _start_state(data, routes, arrays, ws)
    lens = cur[1]
    total = int(_total(cur, data.penalty))
    costs = np.array([total, total], dtype=np.int64)
    work = _state(n_veh, n_req, max_len)
    best = tuple(a.copy() for a in cur)
    arc = float(cur[6].sum() - data.v_fixed[lens > 0].sum())
    temp0 = max(start_temperature * arc, 1e-9)
    temp1 = max(end_temperature * arc, 1e-9)
    qmax = max(1, min(n_req, 40, round(max_removed_share * n_req)))
    qrange = np.array([min(qmax, 2), qmax], dtype=np.int64)
    noise = _NOISE * float(data.cost.max(initial=0))
    schedule = _Schedule(started, time_limit_s, iterations, temp0, temp1, plateau)
    done = _anneal(schedule, n_req, qrange, noise, arrays, data, cur, work, best, costs, ws)
    return LnsResult(_timed(data, best, ws), int(costs[1]), done)


def _well_formed(seq: list[int], nd: int, n_req: int) -> bool:
    """Whether a route visits each of its requests' pickup once, then its drop-off."""
    seen: set[int] = set()
    open_: set[int] = set()
    for node in seq:
        r, is_drop = divmod(node - nd, 2)
        if not 0 <= r < n_req:
            return False
        if is_drop:
            if r not in open_:
                return False
            open_.remove(r)
        elif r in seen:
            return False
        else:
            seen.add(r)
            open_.add(r)
    return not open_


def _timed(
    data: LnsData, state: tuple[I64, ...], ws: tuple[I64, ...]
) -> list[list[tuple[int, int]]]:
    """Routes with service starts: the earliest schedule, leaving the depot as late
    as that schedule allows."""
    arrays = data.arrays()
    routes, lens = state[0], state[1]
    lb, pos, _, sched, _ = ws
    out: list[list[tuple[int, int]]] = []
    for k in range(len(lens)):
        m = int(lens[k])
        start, end = int(data.v_start[k]), int(data.v_end[k])
        if m == 0:
            out.append([(start, int(data.v_early[k])), (end, int(data.v_early[k]))])
            continue
        if not _schedule(routes[k], m, k, arrays, sched, lb, pos):
            raise AssertionError(f"route {k} lost its schedule")  # pragma: no cover
        prof = int(data.v_prof[k])
        first = int(routes[k, 0])
        leave = max(int(sched[0]), int(sched[1]) - int(data.travel[prof, start, first]))
        visits = [(start, leave)]
        visits += [(int(routes[k, i]), int(sched[i + 1])) for i in range(m)]
        visits.append((end, int(sched[m + 1])))
        out.append(visits)
    return out


def warm_up() -> float:
    """Compile the search (or load it from numba's cache on disk); seconds taken."""
    started = time.perf_counter()
    travel = np.array([[[0, 5, 5], [5, 0, 5], [5, 5, 0]]], dtype=np.int64)

    def ints(*values: int) -> I64:
        return np.array(values, dtype=np.int64)

    data = LnsData(
        nd=1,
        travel=travel,
        cost=travel,
        early=ints(0, 0, 0),
        late=ints(100, 100, 100),
        service=ints(0, 0, 0),
        demand=ints(0, 1, -1),
        ride=ints(50),
        penalty=ints(1000),
        v_cap=ints(2),
        v_start=ints(0),
        v_end=ints(0),
        v_early=ints(0),
        v_late=ints(100),
        v_dur=ints(BIG),
        v_prof=ints(0),
        v_fixed=ints(0),
        allowed=np.ones((1, 1), dtype=np.bool_),
    )
    improve(data, [[]], time_limit_s=1.0, iterations=3)
    return time.perf_counter() - started
