"""Benchmark readers and the a2-16 optimum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.check import check
from optimizer.darp import SCALE, main, read_darp, solve_instance
from optimizer.lilim import read_lilim
from optimizer.solve import SolverParams, solve
from tests.conftest import SHARED

CORDEAU = SHARED / "bench" / "darp_cordeau"


def test_a2_16_reaches_the_optimum_294_25() -> None:
    instance = read_darp(CORDEAU / "a2-16.txt")
    # a fixed search (one worker, 20 OR-Tools solutions, 30,000 iterations, seed 0): the
    # same plan on any machine, in under a second; the time limit is only a guard
    params = SolverParams(
        time_limit_s=60,
        workers=1,
        arc_cost="distance",
        solution_limit=20,
        lns_iterations=30_000,
        seed=0,
    )
    result = solve_instance(instance, params)
    assert result["feasible"] is True, (result["unassigned"], result["violations"])
    assert result["cost"] == pytest.approx(294.25, abs=0.005)


def test_reader_accepts_header_with_2n_and_no_end_depot_line(tmp_path: Path) -> None:
    lines = (CORDEAU / "a2-16.txt").read_text(encoding="utf-8").splitlines()
    header = lines[0].split()
    header[1] = str(2 * int(header[1]))
    variant = tmp_path / "variant.txt"
    variant.write_text("\n".join([" ".join(header), *lines[1:-1]]) + "\n", encoding="utf-8")
    original, other = read_darp(CORDEAU / "a2-16.txt"), read_darp(variant)
    assert other.n_requests == original.n_requests == 16
    assert other.problem.requests == original.problem.requests
    assert other.problem.vehicles == original.problem.vehicles


def test_reader_scales_and_rounds_travel_times_up() -> None:
    instance = read_darp(CORDEAU / "a2-16.txt")
    p = instance.problem
    exact = ((instance.coords[1] - instance.coords[2]) ** 2).sum() ** 0.5
    assert exact * SCALE <= p.durations[1, 2] < exact * SCALE + 1
    assert p.requests[0].max_ride == 30 * SCALE
    assert p.vehicles[0].max_duration == 480 * SCALE


def test_reader_rejects_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("2 16 480\n", encoding="utf-8")
    with pytest.raises(ValueError, match="K n T Q L"):
        read_darp(bad)


def test_command_line_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    status = main([str(CORDEAU / "b2-16.txt"), "--time-limit", "1", "--workers", "1", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"instance", "cost", "routes", "unassigned", "feasible", "seconds"}
    served = sorted(node for route in result["routes"] for node in route)
    assert served == list(range(1, 33))  # every pickup 1..16 and drop-off 17..32
    assert result["unassigned"] == [] and result["feasible"] is True


def test_lilim_reader_pairs_pickups_with_drop_offs() -> None:
    instance = read_lilim(SHARED / "bench" / "lilim" / "lc101.txt")
    p = instance.problem
    assert len(p.requests) == 53 and len(p.vehicles) == 25
    assert all(p.durations[r.pickup, r.delivery] >= 0 for r in p.requests)
    assert all(r.seats > 0 for r in p.requests)


def test_lilim_plan_is_checked_feasible() -> None:
    instance = read_lilim(SHARED / "bench" / "lilim" / "lc101.txt")
    plan = solve(instance.problem, SolverParams(time_limit_s=2, workers=1, arc_cost="distance"))
    assert check(instance.problem, plan) == []
    assert plan.unassigned == ()


def test_lilim_command_line_prints_the_documented_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from optimizer.lilim import main as lilim_main

    path = SHARED / "bench" / "lilim" / "lc101.txt"
    argv = [str(path), "--time-limit", "2", "--workers", "1", "--json"]
    assert lilim_main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"instance", "vehicles", "cost", "feasible", "seconds"}
    assert result["instance"] == "lc101" and result["feasible"] is True
    assert result["vehicles"] >= 10 and result["cost"] >= 828.93  # the best known: 10, 828.94
    bad = tmp_path / "bad.txt"
    bad.write_text("not a Li & Lim file\n", encoding="utf-8")
    assert lilim_main([str(bad), "--json"]) == 2
    assert "lilim: error" in capsys.readouterr().err


def test_a_longer_limit_is_never_worse_on_a5_40() -> None:
    # the limit only cuts the search short (cycles counted in iterations, OR-Tools'
    # first solution): the longer run goes through the same iterations first
    instance = read_darp(CORDEAU / "a5-40.txt")
    costs = []
    for limit in (4.0, 12.0):
        params = SolverParams(time_limit_s=limit, workers=1, arc_cost="distance", seed=0)
        result = solve_instance(instance, params)
        assert result["feasible"] is True
        costs.append(float(result["cost"]))  # type: ignore[arg-type]
    assert costs[1] <= costs[0] + 1e-6
    assert costs[1] <= 498.41 * 1.006  # within 0.6 % of the best known
