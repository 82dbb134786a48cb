"""Large-neighbourhood search for the dial-a-ride problem, compiled with numba.

OR-Tools' generic moves rarely respect ride times (see
``../shared/notes/optimizer-findings.md``): almost every candidate it tries is
rejected. This search works on whole requests instead: it removes a few (at random,
the costliest to keep, related ones: close in space and time, runs of consecutive
stops from the routes around one request, or a whole route), re-inserts them (by
greedy or regret insertion, with or without noise, or one at a time in a random
order) and accepts the result by simulated annealing; the methods are chosen by
adaptive weights, after Ropke and Pisinger's adaptive large-neighbourhood search
(Transportation Science, 2006). Before it, a route minimisation by guided ejection
search may take whole routes out (Nagata and Bräysy, 2009).

The model is :mod:`optimizer.solve`'s: nodes are depots, then one pickup/drop-off
pair per request part, with the same tightened windows and the same objective
(penalties for unserved seats, fixed costs, arc costs), so the results compare.

The rooms: :mod:`.arrays` (the named arrays and operator names), :mod:`.routes`
(one route's schedule and insertions), :mod:`.destroy` and :mod:`.repair` (the
operators), :mod:`.anneal` (the loop and its schedule), :mod:`.ejection` (route
minimisation), :mod:`.improve` (the entry point).

numba caches compiled code per file and does not notice when a function it calls
in another file changes; :func:`_drop_stale_caches` removes this package's cache
when any of its files differ from those the cache was built from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from optimizer.lns.arrays import BIG, NOWHERE, Arrays
from optimizer.lns.improve import PLATEAU_MIN_ITERATIONS, LnsResult, alone, improve, warm_up

__all__ = [
    "BIG",
    "NOWHERE",
    "PLATEAU_MIN_ITERATIONS",
    "Arrays",
    "LnsResult",
    "alone",
    "improve",
    "warm_up",
]


def _drop_stale_caches() -> None:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "numba-sources.sha256"
    try:
        if stamp.read_text(encoding="ascii") == digest.hexdigest():
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for path in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            path.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest(), encoding="ascii")
    except OSError:  # a read-only install: numba then compiles in memory
        pass


_drop_stale_caches()
