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
#: Once the plateau rule fires, the search cools down for this share of the time it
#: has used, then stops.
COOLING_SHARE = 0.25


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
    dst.routes[:] = src.routes
    dst.lens[:] = src.lens
    dst.where[:] = src.where
    dst.earliest[:] = src.earliest
    dst.latest[:] = src.latest
    dst.loads[:] = src.loads
    dst.rcost[:] = src.rcost


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
def run(n_iter, temps, qrange, noise_level, data, cur, work, best, costs, adapt, ws):  # type: ignore[no-untyped-def]
    """``n_iter`` iterations of destroy, repair and annealing acceptance.

    ``temps`` = (start, end) temperatures of this batch; ``qrange`` = (fewest, most)
    requests removed; ``costs`` = [current, best], updated.
    """
    nreq = cur.where.shape[0]
    removed = np.empty(nreq, dtype=np.int64)
    order = np.empty(nreq, dtype=np.int64)
    keys = np.empty(nreq, dtype=np.int64)
    ratio = temps[1] / temps[0] if temps[0] > 0 else 1.0
    for it in range(n_iter):
        temp = temps[0] * ratio ** (it / max(1, n_iter))
        copy_state(cur, work)
        op_d = roulette(adapt.weights[:N_DESTROY])
        op_r = roulette(adapt.weights[N_DESTROY:])
        count = qrange[0] + int(np.random.random() * (qrange[1] - qrange[0] + 1))
        n_removed = destroy(op_d, count, work, data, removed, order, keys)
        if not take_out(removed, n_removed, work, data, ws):
            continue
        pending = np.flatnonzero(work.where == NOWHERE)
        np.random.shuffle(pending)  # ties must not always favour the same requests
        noise = noise_level if op_r >= GREEDY_NOISY else 0.0
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
        _learn(adapt, op_d, op_r, score, it)
    return costs[1]


@dataclass(frozen=True)
class Schedule:
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

    def temperatures(self, frac0: float, frac1: float) -> np.ndarray:
        ratio = self.temp1 / self.temp0
        return np.array([self.temp0 * ratio**frac0, self.temp0 * ratio**frac1], dtype=np.float64)


@dataclass
class Cooling:
    """The last phase of a timed search the plateau rule ends: the temperature falls
    from where it is to the end temperature over a quarter of the time used so far
    (within the time limit), and the search stops then, cold. The schedule follows the
    time actually used: a long limit stopped early ends cooled like a short one."""

    at: float | None = None  # when it started (seconds into the search)
    frac: float = 0.0  # the schedule's fraction then
    length: float = 0.0

    def start(self, elapsed: float, frac: float, left: float) -> None:
        self.at, self.frac = elapsed, frac
        self.length = max(1e-3, min(COOLING_SHARE * elapsed, left))

    def fraction(self, elapsed: float) -> float:
        """The schedule's fraction at ``elapsed``: 1 at the end of the phase."""
        assert self.at is not None
        done = min(1.0, (elapsed - self.at) / self.length)
        return self.frac + (1.0 - self.frac) * done


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
    """Run the compiled loop in batches until the budget is spent; returns the
    iterations run (``search.best`` and ``search.costs`` hold the result)."""
    iterations, time_limit_s = schedule.iterations, schedule.time_limit_s
    adapt: Adapt = new_adapt()
    done = 0
    best_seen, improved_at = int(search.costs[1]), 0
    cooling = Cooling()
    batch = 20
    per_iteration = 1e-3  # seconds, until measured
    while search.cur.where.shape[0] > 0:
        if iterations is not None:
            if done >= iterations:
                break
            n = min(batch, iterations - done)
            frac0, frac1 = done / iterations, (done + n) / iterations
        else:
            elapsed = time.perf_counter() - schedule.started
            if elapsed >= time_limit_s or (
                cooling.at is not None and cooling.fraction(elapsed) >= 1
            ):
                break
            # batches of about 2 % of the budget, the last one cut to what is left
            n = max(1, min(batch, int((time_limit_s - elapsed) / per_iteration)))
            if cooling.at is not None:
                frac0 = cooling.fraction(elapsed)
                frac1 = cooling.fraction(elapsed + n * per_iteration)
            else:
                frac0 = elapsed / time_limit_s
                frac1 = min(1.0, (elapsed + n * per_iteration) / time_limit_s)
        tick = time.perf_counter()
        run(
            n,
            schedule.temperatures(frac0, frac1),
            qrange,
            noise,
            search.data,
            search.cur,
            search.work,
            search.best,
            search.costs,
            adapt,
            search.ws,
        )
        done += n
        if search.costs[1] < best_seen:
            best_seen, improved_at = int(search.costs[1]), done
        elif schedule.stale(done, improved_at) and cooling.at is None:
            elapsed = time.perf_counter() - schedule.started
            cooling.start(elapsed, frac1, time_limit_s - elapsed)
        if iterations is None:
            per_iteration = max(time.perf_counter() - tick, 1e-7) / n
            batch = max(1, min(10_000, int(0.02 * time_limit_s / per_iteration)))
    return done
