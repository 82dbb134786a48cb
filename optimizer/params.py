"""How the optimizer searches: ``SolverParams`` and the portfolio's ``SearchConfig``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["DEFAULT_PORTFOLIO", "SearchConfig", "SolverParams"]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """One search strategy of the portfolio.

    Parameters
    ----------
    first_solution
        Name of an OR-Tools ``FirstSolutionStrategy`` (e.g.
        ``"PARALLEL_CHEAPEST_INSERTION"``).
    metaheuristic
        Name of an OR-Tools ``LocalSearchMetaheuristic`` (e.g.
        ``"GUIDED_LOCAL_SEARCH"``, ``"TABU_SEARCH"``).
    gls_lambda
        Guided local search penalty coefficient.
    settings
        Further OR-Tools ``RoutingSearchParameters`` fields as ``(dotted name,
        value)`` pairs, e.g. ``("local_search_operators.use_exchange", False)``
        (an ``OptionalBoolean`` field takes ``True``/``False``).
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.3
    settings: tuple[tuple[str, object], ...] = ()


#: Measured on Cordeau's instances (bench/darp.py): GLS with lambda 0.3 leads; a
#: second core adds most with a different first solution and lambda.
DEFAULT_PORTFOLIO: Final = (
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 0.3),
    SearchConfig("LOCAL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 0.1),
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "TABU_SEARCH", 0.0),
)


@dataclass(frozen=True)
class SolverParams:
    """How to search.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit of each search; the best plan found by then is returned.
        The search's compiled code is loaded from numba's cache on disk first; when
        there is none (the first run after an install), compiling it comes on top.
    workers
        Searches run at once in worker processes, each with the next strategy of
        ``portfolio`` (default: the number of CPUs, at most the portfolio's size).
    portfolio
        Strategies, in order of preference. With ``plateau`` every worker starts
        from the first one's construction (OR-Tools' first solution) and the
        workers differ by their seeds.
    solution_limit
        Stop each search after this many improving solutions; with it (and one
        worker) a run is reproducible, whatever the machine's speed.
    arc_cost
        ``"duration"`` (driving time) or ``"distance"``.
    lexicographic
        Whether fixed costs dominate travel costs (fewest vehicles first); if not,
        fixed costs are added to travel costs as they are.
    tighten_windows
        Derive tighter time windows from the data before solving.
    log_search
        Print OR-Tools' search log.
    lns
        After OR-Tools, improve its plan with the dial-a-ride large-neighbourhood
        search of :mod:`optimizer.lns` for the rest of the time limit.
    ortools_share
        With ``lns``: share of the time limit given to OR-Tools first.
    lns_iterations
        With ``lns``: run exactly this many iterations instead of until the time
        limit (with ``solution_limit`` and one worker, a reproducible run).
    lns_temperature
        With ``lns``: annealing temperature at the start and at the end, as shares
        of the starting plan's arc cost (a plan that much worse is accepted with
        probability 1/e).
    seed
        Random seed of the large-neighbourhood search (worker ``i`` uses
        ``seed + i``).
    split_crews
        With ``lns``: after ``split_share`` of the time, requests still left out
        for want of room may ride in several vehicles (one part per unit of the
        request, or halves; see :meth:`RoutingProblem.with_split`), and the search
        goes on from the best plan so far. A crew is split only where that serves
        seats the whole crew could not take; the plan keeps the whole requests
        when splitting serves nothing more.
    split_share
        With ``split_crews``: share of the search time before crews are split.
    plateau
        With ``lns``: stop a search early, at the end of a cooling cycle, when its
        best plan has not improved for ``plateau`` times the iterations it took to
        find it (and at least ``PLATEAU_MIN_ITERATIONS``); OR-Tools then gives only
        its first solution (within 1 s + 50 ms a request part), so that a longer
        limit goes through the same search first; ``None``: always use the whole
        time limit.
    route_share
        With ``lns``: at most this share of the search's time goes first to taking
        whole routes out of the plan by guided ejection search (vehicles with a fixed
        cost only; see :mod:`optimizer.lns.ejection`); 0: none. With
        ``lns_iterations`` the phase ends on its own step counts, not on time. The
        phase ends sooner on its own when three attempts in a row fail; seven
        tenths because a vehicle fewer is a driver's wage, and where the count is
        already reached the rest of the time changes the distance little (see
        ``docs/optimizer-measurements.md``, the fifteenth session).
    """

    time_limit_s: float = 30.0
    workers: int | None = None
    portfolio: tuple[SearchConfig, ...] = DEFAULT_PORTFOLIO
    solution_limit: int | None = None
    arc_cost: Literal["duration", "distance"] = "duration"
    lexicographic: bool = True
    tighten_windows: bool = True
    log_search: bool = False
    lns: bool = True
    ortools_share: float = 0.1
    lns_iterations: int | None = None
    lns_temperature: tuple[float, float] = (0.03, 0.001)
    seed: int = 0
    split_crews: bool = False
    split_share: float = 0.7
    plateau: float | None = 2.0
    route_share: float = 0.7

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s: must be positive")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers: must be at least 1")
        if not self.portfolio:
            raise ValueError("portfolio: at least one search strategy is needed")
        if self.arc_cost not in ("duration", "distance"):
            raise ValueError("arc_cost: must be 'duration' or 'distance'")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("solution_limit: must be at least 1")
        if not 0 < self.ortools_share <= 1:
            raise ValueError("ortools_share: must be in (0, 1]")
        if not 0 < self.split_share < 1:
            raise ValueError("split_share: must be in (0, 1)")
        if not 0 <= self.route_share < 1:
            raise ValueError("route_share: must be in [0, 1)")
        if self.plateau is not None and self.plateau <= 0:
            raise ValueError("plateau: must be positive (or None)")
        if self.lns_iterations is not None and self.lns_iterations < 0:
            raise ValueError("lns_iterations: must be >= 0")
        if (
            len(self.lns_temperature) != 2
            or not 0 <= self.lns_temperature[1] <= self.lns_temperature[0]
        ):
            raise ValueError("lns_temperature: must be (start, end) with start >= end >= 0")
