"""The search loop: destroy, repair, accept by simulated annealing, with adaptive
operator weights (Ropke and Pisinger, Transportation Science, 2006); and the
schedule that says how hot it is and when it stops."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from optimizer.lns.arrays import (
    GREEDY_NOISY,
    I64,
    N_DESTROY,
    NOWHERE,
    Adapt,
    Arrays,
    Scratch,
    State,
    new_adapt,
    regret_depth,
)
from optimizer.lns.destroy import destroy, take_out
from optimizer.lns.repair import repair_whole

#: Adaptive weights: scores for a new best, a better and an accepted worse plan.
SCORE_BEST, SCORE_BETTER, SCORE_ACCEPTED = 33.0, 9.0, 3.0
#: Iterations between weight updates, and the weight given to the last period.
PERIOD, REACTION = 100, 0.1
#: A timed search never stops for a plateau before this many iterations without a
#: better plan.
PLATEAU_MIN_ITERATIONS = 50_000
#: Iterations of a timed search's first cooling cycle (each next one is twice as
#: long): an iteration costs more the more requests there are (measured on Li &
#: Lim: about 90,000 a minute with 200 requests, 28,000 with 500), so the cycle is
#: shorter.
FIRST_CYCLE_MAX, FIRST_CYCLE_MIN, FIRST_CYCLE_REQUESTS = 25_000, 2_000, 50


def first_cycle(n_req: int) -> int:
    """The first cycle's iterations for ``n_req`` requests: 25,000 up to 50, then
    fewer in proportion, at least 2,000."""
    scaled = FIRST_CYCLE_MAX * FIRST_CYCLE_REQUESTS // max(1, n_req)
    return max(FIRST_CYCLE_MIN, min(FIRST_CYCLE_MAX, scaled))


@njit(cache=True)
def total(state, penalty):  # type: ignore[no-untyped-def]
    """The objective: route costs, and the penalty of every request left out."""
    result = state.rcost.sum()
    for r in range(state.where.shape[0]):
        if state.where[r] == NOWHERE:
            result += penalty[r]
    return result


@njit(cache=True)
def roulette(weights):  # type: ignore[no-untyped-def]
    x = np.random.random() * weights.sum()
    for i in range(weights.shape[0]):
        x -= weights[i]
        if x <= 0:
            return i
    return weights.shape[0] - 1


@njit(cache=True)
def copy_state(src, dst):  # type: ignore[no-untyped-def]
    """Copy a solution; positions past a route's end are not read, so only the
    longest route's positions are copied (a few dozen of up to 2 n on large
    instances)."""
    w = 0
    for k in range(src.lens.shape[0]):
        w = max(w, src.lens[k])
    dst.routes[:, :w] = src.routes[:, :w]
    dst.lens[:] = src.lens
    dst.where[:] = src.where
    dst.earliest[:, : w + 2] = src.earliest[:, : w + 2]
    dst.latest[:, : w + 2] = src.latest[:, : w + 2]
    dst.loads[:, : w + 2] = src.loads[:, : w + 2]
    dst.rcost[:] = src.rcost


@njit(cache=True)
def copy_route(src, dst, k):  # type: ignore[no-untyped-def]
    """Copy route ``k`` of a solution (not ``where``: the caller knows which
    requests moved)."""
    m = src.lens[k]
    dst.routes[k, :m] = src.routes[k, :m]
    dst.lens[k] = m
    dst.earliest[k, : m + 2] = src.earliest[k, : m + 2]
    dst.latest[k, : m + 2] = src.latest[k, : m + 2]
    dst.loads[k, : m + 2] = src.loads[k, : m + 2]
    dst.rcost[k] = src.rcost[k]


@njit(cache=True)
def seed_random(seed):  # type: ignore[no-untyped-def]
    np.random.seed(seed)


@njit(cache=True)
def _learn(adapt, op_d, op_r, score, it):  # type: ignore[no-untyped-def]
    """Score the operators used; every ``PERIOD`` iterations, move the weights."""
    weights, scores, uses = adapt.weights, adapt.scores, adapt.uses
    scores[op_d] += score
    scores[N_DESTROY + op_r] += score
    uses[op_d] += 1
    uses[N_DESTROY + op_r] += 1
    if (it + 1) % PERIOD == 0:
        for x in range(weights.shape[0]):
            if uses[x] > 0:
                learnt = scores[x] / uses[x]
                weights[x] = max(0.05, (1 - REACTION) * weights[x] + REACTION * learnt)
            scores[x] = 0.0
            uses[x] = 0


@njit(cache=True)
def run(n_iter, first, cycle, temps, qrange, noise_level, data, cur, work, best, costs, adapt, ws):  # type: ignore[no-untyped-def]
    """Iterations ``first`` to ``first + n_iter - 1`` of destroy, repair and
    annealing acceptance.

    ``cycle`` = (first iteration, length) of the cooling cycle they belong to,
    ``temps`` = its (start, end) temperatures: iteration ``g`` runs at
    ``start * (end / start) ** ((g - cycle[0]) / cycle[1])``, whatever the batches;
    ``qrange`` = (fewest, most) requests removed; ``costs`` = [current, best],
    updated.
    """
    nreq = cur.where.shape[0]
    removed = np.empty(nreq, dtype=np.int64)
    order = np.empty(nreq, dtype=np.int64)
    keys = np.empty(nreq, dtype=np.int64)
    ratio = temps[1] / temps[0] if temps[0] > 0 else 1.0
    for g in range(first, first + n_iter):
        temp = temps[0] * ratio ** ((g - cycle[0]) / max(1, cycle[1]))
        copy_state(cur, work)
        op_d = roulette(adapt.weights[:N_DESTROY])
        op_r = roulette(adapt.weights[N_DESTROY:])
        count = qrange[0] + int(np.random.random() * (qrange[1] - qrange[0] + 1))
        n_removed = destroy(op_d, count, work, data, removed, order, keys)
        if not take_out(removed, n_removed, work, data, ws):
            continue
        pending = np.flatnonzero(work.where == NOWHERE)
        np.random.shuffle(pending)  # ties must not always favour the same requests
        noise = noise_level if op_r >= GREEDY_NOISY else 0.0  # the noisy three, SEQUENTIAL
        if not repair_whole(regret_depth(op_r), noise, pending, work, data, ws):
            continue
        new = total(work, data.penalty)
        score = 0.0
        accept = False
        if new < costs[0]:
            accept = True
            score = SCORE_BETTER
        elif temp > 0 and np.random.random() < np.exp(-(new - costs[0]) / temp):
            accept = new != costs[0]
            score = SCORE_ACCEPTED if accept else 0.0
        if new < costs[1]:
            score = SCORE_BEST
            copy_state(work, best)
            costs[1] = new
        if accept:
            copy_state(work, cur)
            costs[0] = new
        _learn(adapt, op_d, op_r, score, g)
    return costs[1]


@dataclass(frozen=True)
class Schedule:
    """When the search stops and how hot it is.

    With ``iterations``, one cooling from ``temp0`` to ``temp1`` over them. Timed,
    the search runs cooling *cycles* counted in iterations, never in seconds: cycle
    ``k`` has ``first_cycle * 2**k`` iterations and starts from the best plan so far,
    each at a lower start temperature (halfway, on a log scale, from the last one to
    ``temp1``). The time limit only cuts the search short, so a run given more time
    goes through the same iterations first and ends no worse; the plateau rule
    (``plateau``) is read at the end of a cycle, when the search is cold.
    """

    started: float
    time_limit_s: float
    iterations: int | None
    temp0: float
    temp1: float
    plateau: float | None = None
    first_cycle: int = FIRST_CYCLE_MAX

    def stale(self, done: int, improved_at: int) -> bool:
        """Whether a timed search has gone ``plateau`` times as many iterations
        without a better best as it took to find it (at least
        ``PLATEAU_MIN_ITERATIONS``)."""
        if self.plateau is None or self.iterations is not None:
            return False
        return done - improved_at >= max(PLATEAU_MIN_ITERATIONS, self.plateau * improved_at)

    def cycle(self, k: int) -> tuple[int, int, np.ndarray]:
        """Cycle ``k``'s first iteration, length and (start, end) temperatures."""
        if self.iterations is not None:
            return 0, self.iterations, np.array([self.temp0, self.temp1])
        length = self.first_cycle << k
        start = self.first_cycle * ((1 << k) - 1)
        hot = self.temp0 * (self.temp1 / self.temp0) ** (1 - 0.5**k)
        return start, length, np.array([hot, self.temp1])


@dataclass(frozen=True)
class Search:
    """What the loop works on: the model, the current, scratch and best solutions,
    [current, best] costs, and scratch space."""

    data: Arrays
    cur: State
    work: State
    best: State
    costs: I64
    ws: Scratch


def anneal(schedule: Schedule, qrange: I64, noise: float, search: Search) -> int:
    """Run the compiled loop in batches, cycle after cycle, until the budget is spent
    or (at a cycle's end) the plateau rule says more would not help; returns the
    iterations run (``search.best`` and ``search.costs`` hold the result). How the
    iterations fall in batches (timed: about 2 % of the budget each) changes nothing
    in the search."""
    adapt: Adapt = new_adapt()
    done, k = 0, 0
    best_seen, improved_at = int(search.costs[1]), 0
    start, length, temps = schedule.cycle(0)
    batch, per_iteration = 20, 1e-3  # seconds, until measured
    while search.cur.where.shape[0] > 0:
        if done == start + length:  # the cycle is over, cold
            if schedule.iterations is not None or schedule.stale(done, improved_at):
                break
            k += 1
            start, length, temps = schedule.cycle(k)
            copy_state(search.best, search.cur)  # the next one starts from the best
            search.costs[0] = search.costs[1]
        n = min(batch, start + length - done)
        if schedule.iterations is None:
            left = schedule.time_limit_s - (time.perf_counter() - schedule.started)
            if left <= 0:
                break
            n = max(1, min(n, int(left / per_iteration)))
        tick = time.perf_counter()
        cycle = np.array([start, length], dtype=np.int64)
        run(n, done, cycle, temps, qrange, noise, *_arrays(search), adapt, search.ws)
        done += n
        if search.costs[1] < best_seen:
            best_seen, improved_at = int(search.costs[1]), done
        per_iteration = max(time.perf_counter() - tick, 1e-7) / n
        batch = max(1, min(10_000, int(0.02 * schedule.time_limit_s / per_iteration)))
    return done


def _arrays(search: Search) -> tuple[Arrays, State, State, State, I64]:
    return search.data, search.cur, search.work, search.best, search.costs
