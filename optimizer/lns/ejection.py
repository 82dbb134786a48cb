"""Route minimisation by guided ejection search, after Nagata and Bräysy (2009) and
Curtois et al. (2018), the best published methods on Li & Lim's instances.

An attempt takes one route out of the plan and puts its requests in an *ejection
pool* (a stack); the other vehicles then take them one at a time, where each costs
least. A request that fits nowhere goes in by ejecting one or two requests near each
other in some route (three when no one or two will do, then two anywhere in the route:
on long routes the pair that makes room can be far apart), the set whose members have
failed least often so far by their counts, which grow at each failure: the search is
guided away from ejecting the same hard requests again. The ejected go on the pool.
After every step a few random moves (take two to four requests out, put them back
where they cost least by noisy costs, so that they move; undone if one does not fit)
shake the plan; a request taken out by a shake goes back into its own route or one
that serves one of its ``NEAR`` nearest requests (in space and time: a *granular*
neighbourhood, which makes a shake several times cheaper on large plans). A request
no ejection lets in goes to the bottom of the pool; when none does, the plan is
shaken harder. The attempt succeeds when the pool empties (a vehicle fewer, every
request served as before) and fails when its budget runs out (``STEPS_PER_REQUEST``
steps, ``STALL_PER_REQUEST`` steps without a pool smaller than ever, or the
deadline): the plan is then the one before it, and the next attempt takes out
another route (the phase ends after ``TRIES`` failures in a row). Requests left out
before the attempt stay out; sets served all or none are not ejected, so plans with
such sets skip this phase.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from numba import njit

from optimizer.lns.anneal import copy_route, copy_state, total
from optimizer.lns.arrays import (
    BIG,
    I64,
    NOWHERE,
    RANDOM_REMOVAL,
    RELATED_REMOVAL,
    Arrays,
    Scratch,
    State,
)
from optimizer.lns.destroy import destroy, take_out
from optimizer.lns.repair import repair
from optimizer.lns.routes import best_insertion, insert, refresh

#: Requests apart in a route's order that are tried as a pair to eject, as a trio
#: (pairs farther apart only when no near set will do: ``FAR_PAIRS``).
PAIR_REACH, TRIO_REACH = 8, 5
#: Random moves after each insertion; the noise on their insertion costs, as a
#: share of the largest arc cost.
SHAKES, SHAKE_NOISE = 10, 0.5
#: Nearest requests whose routes a request taken out by a shake may go back into.
NEAR = 20
#: Pool steps of an attempt per request of the plan, before it is given up; and
#: steps per request without a pool smaller than ever in the attempt.
STEPS_PER_REQUEST, STALL_PER_REQUEST = 1000, 100
#: Failed attempts in a row (each on another route) that end the phase.
TRIES = 3
#: The rounds of the lightest-ejection search, each tried only when the one before
#: found nothing: one request or two near each other; three near each other; two
#: farther apart than ``PAIR_REACH`` (only on long routes are there any).
NEAR_PAIRS, NEAR_TRIOS, FAR_PAIRS = 0, 1, 2
# What a batch of steps ends in.
EMPTIED, GOING, STALLED = 0, 1, 2


@njit(cache=True)
def _requests_of(k, state, data, reqs):  # type: ignore[no-untyped-def]
    """The requests of route ``k`` in pickup order, into ``reqs``; how many."""
    n = 0
    for x in range(state.lens[k]):
        node = state.routes[k, x]
        if (node - data.nd) % 2 == 0:
            reqs[n] = (node - data.nd) // 2
            n += 1
    return n


@njit(cache=True)
def _fits_without(r, k, eject, n_eject, state, probe, data, ws):  # type: ignore[no-untyped-def]
    """Whether request ``r`` fits in route ``k`` once ``eject[:n_eject]`` are out
    (computed in ``probe``, whose route ``k`` it overwrites)."""
    m = 0
    for x in range(state.lens[k]):
        node = state.routes[k, x]
        rr = (node - data.nd) // 2
        keep = True
        for e in range(n_eject):
            if eject[e] == rr:
                keep = False
        if keep:
            probe.routes[k, m] = node
            m += 1
    probe.lens[k] = m
    if not refresh(k, probe, data, ws):
        return False
    best_insertion(r, k, probe, data, ws, ws.out, True)
    return ws.out[0] < BIG


@njit(cache=True)
def _insert_cheapest(r, state, data, ws):  # type: ignore[no-untyped-def]
    """Insert ``r`` where it costs least; False if it fits nowhere."""
    best, best_k, best_i, best_j = BIG, NOWHERE, NOWHERE, NOWHERE
    for k in range(state.lens.shape[0]):
        if data.allowed[r, k]:
            best_insertion(r, k, state, data, ws, ws.out)
            if ws.out[0] < best:
                best, best_k, best_i, best_j = ws.out[0], k, ws.out[1], ws.out[2]
    if best_k == NOWHERE:
        return False
    insert(r, best_k, best_i, best_j, state, data, ws)
    return True


@njit(cache=True)
def _route_ejection(r, k, best_sum, round_, weight, state, probe, data, ws, reqs, chosen):  # type: ignore[no-untyped-def]
    """The lightest set of requests of route ``k`` of the sets ``round_`` tries
    (``NEAR_PAIRS``: one, or two near each other in its order; ``NEAR_TRIOS``: three
    near each other, the caller knowing that no one or two will do; ``FAR_PAIRS``:
    two farther apart than ``PAIR_REACH``, no near set doing) whose ejection lets
    ``r`` in, if lighter than ``best_sum``; returns (its weight, its size), size 0
    for none (``chosen`` holds it)."""
    n = _requests_of(k, state, data, reqs)
    trio = np.empty(3, dtype=np.int64)
    best_n = 0
    for a in range(n):
        wa = weight[reqs[a]]
        if wa >= best_sum:
            continue
        trio[0] = reqs[a]
        if round_ == NEAR_PAIRS and _fits_without(r, k, trio, 1, state, probe, data, ws):
            best_sum, best_n = wa, 1
            chosen[:1] = trio[:1]
            continue  # any set with it weighs more
        if round_ == FAR_PAIRS:
            first, last = a + 1 + PAIR_REACH, n
        else:
            first, last = a + 1, min(n, a + 1 + PAIR_REACH)
        for b in range(first, last):
            wb = wa + weight[reqs[b]]
            if wb >= best_sum:
                continue
            trio[1] = reqs[b]
            if round_ != NEAR_TRIOS:
                if _fits_without(r, k, trio, 2, state, probe, data, ws):
                    best_sum, best_n = wb, 2
                    chosen[:2] = trio[:2]
                continue
            for c in range(b + 1, min(n, a + 1 + TRIO_REACH)):
                wc = wb + weight[reqs[c]]
                if wc >= best_sum:
                    continue
                trio[2] = reqs[c]
                if _fits_without(r, k, trio, 3, state, probe, data, ws):
                    best_sum, best_n = wc, 3
                    chosen[:3] = trio[:3]
    return best_sum, best_n


@njit(cache=True)
def _lightest_ejection(r, weight, state, probe, data, ws, reqs, chosen):  # type: ignore[no-untyped-def]
    """The route and the one or two requests (three only when no one or two near
    each other will do: the pool must not grow fast; two far apart when no near set
    will do) to eject from it so that ``r`` fits, with the least sum of failure
    counts (into ``chosen``); returns (route, how many), route NOWHERE when no such
    ejection exists."""
    nveh = state.lens.shape[0]
    best_sum, best_k, best_n = BIG, NOWHERE, 0
    found = np.empty(3, dtype=np.int64)
    offset = int(np.random.random() * nveh)  # ties go to a random route
    for round_ in (NEAR_PAIRS, NEAR_TRIOS, FAR_PAIRS):
        for y in range(nveh):
            k = (y + offset) % nveh
            if not data.allowed[r, k] or state.lens[k] == 0:
                continue
            w, size = _route_ejection(
                r, k, best_sum, round_, weight, state, probe, data, ws, reqs, found
            )
            if size > 0:
                best_sum, best_k, best_n = w, k, size
                chosen[:size] = found[:size]
        if best_k != NOWHERE:
            break
    return best_k, best_n


def neighbours(data: Arrays, count: int = NEAR) -> I64:
    """Per request, its ``count`` nearest other requests (fewer when there are
    fewer): driving time between the pickups and between the drop-offs, plus how far
    apart their windows open."""
    n = len(data.ride)
    count = min(count, n - 1)
    pick = data.nd + 2 * np.arange(n)
    t = data.travel[0]
    near = np.empty((n, max(count, 0)), dtype=np.int64)
    for lo in range(0, n, 256):  # rows in blocks: bounded memory on large days
        rows = pick[lo : lo + 256]
        far = (
            t[np.ix_(rows, pick)]
            + t[np.ix_(rows + 1, pick + 1)]
            + np.abs(data.early[rows][:, None] - data.early[pick][None, :])
            + np.abs(data.early[rows + 1][:, None] - data.early[pick + 1][None, :])
        )
        far[np.arange(len(rows)), np.arange(lo, lo + len(rows))] = np.iinfo(np.int64).max
        if count > 0:
            part = np.argpartition(far, count - 1, axis=1)[:, :count]
            near[lo : lo + len(rows)] = part
    return near


@njit(cache=True)
def _narrow(removed, n, was, state, data, narrow, near):  # type: ignore[no-untyped-def]
    """Let each of ``removed[:n]`` (which were in routes ``was``) into its own route
    and its neighbours' routes only, in ``narrow.allowed``."""
    for x in range(n):
        r = removed[x]
        narrow.allowed[r, :] = False
        narrow.allowed[r, was[x]] = data.allowed[r, was[x]]
        for y in range(near.shape[1]):
            k = state.where[near[r, y]]
            if k != NOWHERE:
                narrow.allowed[r, k] = data.allowed[r, k]


@njit(cache=True)
def _shake(state, backup, data, narrow, near, ws, removed, order, keys, moves, noise):  # type: ignore[no-untyped-def]
    """A few random moves: take out two to four requests and put them back where
    they fit best among nearby routes (``narrow``, ``near``: see :func:`_narrow`),
    costs blurred by ``noise``; a move that leaves one out is undone. ``backup``
    mirrors the plan between moves: only the routes a move touched are copied."""
    was = np.empty(4, dtype=np.int64)
    copy_state(state, backup)
    for s in range(moves):
        op = RANDOM_REMOVAL if s % 2 == 0 else RELATED_REMOVAL
        n = destroy(op, 2 + int(np.random.random() * 3), state, data, removed, order, keys)
        for x in range(n):
            was[x] = state.where[removed[x]]
        ok = take_out(removed, n, state, data, ws)
        if ok:
            _narrow(removed, n, was, state, data, narrow, near)
            repair(1, noise, removed[:n], state, narrow, ws)
            for x in range(n):
                ok &= state.where[removed[x]] != NOWHERE
                narrow.allowed[removed[x], :] = data.allowed[removed[x], :]
        for x in range(n):  # keep the move in both, or undo it
            r = removed[x]
            for k in (was[x], state.where[r]):
                if k != NOWHERE:
                    if ok:
                        copy_route(state, backup, k)
                    else:
                        copy_route(backup, state, k)
            if ok:
                backup.where[r] = state.where[r]
            else:
                state.where[r] = was[x]


class Attempt(NamedTuple):
    """What an attempt works with besides its plan: the ejection pool (a stack,
    ``pool[:pool_n[0]]``) and its ``progress`` (see :func:`eject_steps`), the
    failure counts, the model with the removed route and the empty ones closed
    (``shut``) and a copy of it whose ``allowed`` a shake narrows (``narrow``, with
    ``near``: see :func:`_shake`), and two spare plans."""

    pool: I64
    pool_n: I64
    progress: I64
    weight: I64
    shut: Arrays
    narrow: Arrays
    near: I64
    probe: State
    backup: State


@njit(cache=True)
def eject_steps(n_steps, stall, noise, state, ws, at):  # type: ignore[no-untyped-def]
    """Up to ``n_steps`` requests of the pool of :class:`Attempt` ``at`` put in
    ``state``; returns EMPTIED, GOING, or STALLED when ``stall`` steps in a row have
    not made the pool smaller than ever (``at.progress``: that size, the steps
    since, and the requests in a row that fit nowhere, even by ejection; kept
    between batches so that how the steps are split in batches does not change the
    search). A request that fits nowhere, even by ejection, goes to the bottom of
    the pool; when none does, the plan is shaken harder."""
    pool, pool_n, progress, weight = at.pool, at.pool_n, at.progress, at.weight
    data, narrow, near, probe, backup = at.shut, at.narrow, at.near, at.probe, at.backup
    nreq = state.where.shape[0]
    reqs = np.empty(nreq, dtype=np.int64)
    removed = np.empty(nreq, dtype=np.int64)
    order = np.empty(nreq, dtype=np.int64)
    keys = np.empty(nreq, dtype=np.int64)
    chosen = np.empty(3, dtype=np.int64)
    for _ in range(n_steps):
        if pool_n[0] == 0:
            return EMPTIED
        r = pool[pool_n[0] - 1]
        pool_n[0] -= 1
        if not _insert_cheapest(r, state, data, ws):
            weight[r] += 1
            k, n = _lightest_ejection(r, weight, state, probe, data, ws, reqs, chosen)
            if k == NOWHERE:  # to the bottom of the pool: it may fit later
                pool[1 : pool_n[0] + 1] = pool[: pool_n[0]].copy()
                pool[0] = r
                pool_n[0] += 1
                progress[2] += 1
                if progress[2] >= pool_n[0]:  # none fits: shake the plan harder
                    more = 10 * SHAKES
                    _shake(state, backup, data, narrow, near, ws, removed, order, keys, more, noise)
                    progress[2] = 0
            else:
                progress[2] = 0
                take_out(chosen, n, state, data, ws)
                best_insertion(r, k, state, data, ws, ws.out)
                insert(r, k, ws.out[1], ws.out[2], state, data, ws)
                for x in range(n):
                    pool[pool_n[0]] = chosen[x]
                    pool_n[0] += 1
        _shake(state, backup, data, narrow, near, ws, removed, order, keys, SHAKES, noise)
        if pool_n[0] < progress[0]:
            progress[0], progress[1] = pool_n[0], 0
        else:
            progress[1] += 1
            if progress[1] > stall:
                return STALLED
    return EMPTIED if pool_n[0] == 0 else GOING


def _route_to_remove(
    state: State, data: Arrays, rng: np.random.Generator, tried: set[int]
) -> int | None:
    """The used route with the fewest requests among those with a fixed cost and
    not in ``tried`` (a random one of the shortest); None when there is none, or
    when no other route would be left."""
    lens = state.lens
    used = [k for k in range(len(lens)) if lens[k] > 0 and data.v_fixed[k] > 0]
    candidates = [k for k in used if k not in tried]
    if len(used) < 2 or not candidates:
        return None
    shortest = min(lens[k] for k in candidates)
    ties = [k for k in candidates if lens[k] == shortest]
    return ties[int(rng.integers(len(ties)))]


def _attempt(
    state: State,
    data: Arrays,
    near: I64,
    ws: Scratch,
    k: int,
    deadline: float,
    rng: np.random.Generator,
) -> State | None:
    """Serve route ``k``'s requests with the other used vehicles; the new plan, or
    None when the attempt fails."""
    trial = State(*(a.copy() for a in state))
    closed = data.allowed.copy()
    closed[:, trial.lens == 0] = False
    closed[:, k] = False
    shut = data._replace(allowed=closed)
    pool = np.flatnonzero(trial.where == k).astype(np.int64)
    take_out(pool, len(pool), trial, shut, ws)
    rng.shuffle(pool)
    stack = np.empty(len(trial.where), dtype=np.int64)
    stack[: len(pool)] = pool
    at = Attempt(
        pool=stack,
        pool_n=np.array([len(pool)], dtype=np.int64),
        progress=np.array([len(pool), 0, 0], dtype=np.int64),
        weight=np.ones(len(trial.where), dtype=np.int64),
        shut=shut,
        narrow=data._replace(allowed=closed.copy()),
        near=near,
        probe=State(*(a.copy() for a in trial)),
        backup=State(*(a.copy() for a in trial)),
    )
    n_served = int((trial.where != NOWHERE).sum() + len(pool))
    steps_left = STEPS_PER_REQUEST * n_served
    stall = STALL_PER_REQUEST * n_served
    noise = SHAKE_NOISE * float(data.cost.max(initial=0))
    batch = 10
    while steps_left > 0 and time.perf_counter() < deadline:
        tick = time.perf_counter()
        n = min(batch, steps_left)
        outcome = eject_steps(n, stall, noise, trial, ws, at)
        if outcome == EMPTIED:
            return trial
        if outcome == STALLED:
            return None
        steps_left -= n
        per_step = max(time.perf_counter() - tick, 1e-7) / n
        batch = max(1, min(1000, int(0.2 / per_step)))
    return None


def fewer_routes(
    state: State, data: Arrays, ws: Scratch, deadline: float, seed: int = 0
) -> tuple[State, int]:
    """Take routes out of the plan one at a time while an attempt succeeds (or
    until ``deadline``, a ``time.perf_counter`` value); the plan and the routes
    removed."""
    rng = np.random.default_rng(seed)
    used = int((state.lens > 0).sum())
    if (data.together != np.arange(len(data.together))).any():
        return state, 0  # sets served all or none are not ejected one by one
    near = neighbours(data)
    tried: set[int] = set()
    while time.perf_counter() < deadline and len(tried) < TRIES:
        k = _route_to_remove(state, data, rng, tried)
        if k is None:
            break
        trial = _attempt(state, data, near, ws, k, deadline, rng)
        if trial is None or total(trial, data.penalty) >= total(state, data.penalty):
            tried.add(k)
            continue
        state = trial  # (the shakes may have emptied more routes than the one)
        tried.clear()
    return state, used - int((state.lens > 0).sum())
