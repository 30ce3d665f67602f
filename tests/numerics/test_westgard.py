"""The Westgard multirule against westgard-python (a peer implementation of the published rules, used as a
test oracle) on simulated two-level runs, and against the published definitions (westgard.com, "Westgard
Rules" and "Multirules and QC validator") on cases checked by hand."""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pytest
from westgard import (
    ControlObservation,
    EvaluationScope,
    MultiruleVariant,
    QCEvent,
    QCSeries,
    RunIdentifier,
    evaluate_multirule_sequence,
)

from opentic.numerics.stats.charts import Scope, westgard
from opentic.numerics.stats.checks import NotFinite, StatisticsInputError

LEVELS = ("L1", "L2")
RULES = {"1_3s": "1-3s", "2_2s": "2-2s", "R_4s": "R-4s", "4_1s": "4-1s", "10_x": "10-x"}


def simulated_runs(count: int, seed: int) -> list[list[float]]:
    """Two control levels per run, in control most of the time, with episodes of systematic error (a shift
    of one level or both), of random error (a wider spread) and of drift, so that every rule fires."""
    rng = np.random.default_rng(seed)
    runs: list[list[float]] = []
    while len(runs) < count:
        kind = rng.choice(["ok", "ok", "shift1", "shift2", "shift_both", "random", "drift"])
        length = int(rng.integers(3, 12))
        for t in range(length):
            z = rng.normal(0, 1, 2)
            if kind == "shift1":
                z[0] += 1.8
            elif kind == "shift2":
                z[1] -= 1.8
            elif kind == "shift_both":
                z += 1.3
            elif kind == "random":
                z *= 2.2
            elif kind == "drift":
                z += 0.25 * t
            runs.append([round(float(v), 3) for v in z])
    return runs[:count]


def oracle(runs: list[list[float]], across_materials: bool) -> list[set[tuple[str, Hashable]]]:
    """westgard-python's verdicts, event by event, for the rules we apply (its preset with 10-x), as sets of
    (rule, where): where is the material for a rule along one material, "run" for a rule within the run,
    "all" for a rule over every material's results in order."""
    events = []
    for i, run in enumerate(runs):
        observations = tuple(ControlObservation(analyte="x", material=LEVELS[j], run_id=RunIdentifier(f"r{i}"),
                                                sequence=2 * i + j, z_score=z) for j, z in enumerate(run))
        events.append(QCEvent(run_id=RunIdentifier(f"r{i}"), observations=observations))
    scopes = {EvaluationScope.WITHIN_RUN, EvaluationScope.WITHIN_MATERIAL}
    if across_materials:
        scopes.add(EvaluationScope.ACROSS_MATERIAL)
    results = evaluate_multirule_sequence(series=QCSeries(events=tuple(events)),
                                          preset=MultiruleVariant.MODERN_2_CONTROL_LEGACY_10X,
                                          enabled_scopes=scopes)
    out = []
    for result in results:
        fired: set[tuple[str, Hashable]] = set()
        for v in result.violations:
            stream = v.stream_name
            if stream.startswith("material_across_runs:"):
                where: Hashable = LEVELS.index(stream.split(":", 1)[1])
            elif stream.startswith("current_run"):
                where = "run"
            else:
                # Its 2-2s over every result in order looks at this run's two levels, which is our 2-2s
                # within the run; 4-1s and 10-x there are ours across runs and materials.
                where = "run" if v.rule.value == "2_2s" else "all"
            fired.add((RULES[v.rule.value], where))
        out.append(fired)
    return out


def ours(runs: list[list[float]], across_materials: bool) -> list[set[tuple[str, Hashable]]]:
    out: list[set[tuple[str, Hashable]]] = [set() for _ in runs]
    for v in westgard(runs, across_materials=across_materials):
        if v.reject:
            where: Hashable = {Scope.WITHIN_MATERIAL: v.material, Scope.ACROSS_RUNS_AND_MATERIALS: "all"}.get(
                v.scope, "run")
            out[v.index].add((v.rule, where))
    return out


@pytest.mark.parametrize("across_materials", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_verdict_agrees_with_westgard_python(seed: int, across_materials: bool) -> None:
    runs = simulated_runs(260, seed)
    expected = oracle(runs, across_materials)
    got = ours(runs, across_materials)
    differ = [(i, runs[max(0, i - 3):i + 1], got[i], expected[i]) for i in range(len(runs)) if got[i] != expected[i]]
    assert differ == []
    # The simulation exercises every rule, along each level, so agreement means something.
    fired = {item for verdict in expected for item in verdict}
    for rule in ("1-3s", "2-2s", "R-4s"):
        assert (rule, "run") in fired
    for rule in ("2-2s", "4-1s", "10-x"):
        assert {(rule, 0), (rule, 1)} <= fired
    assert sum(bool(v) for v in expected) > 20
    assert [bool(v) for v in got] == [bool(v) for v in expected]  # the run's accept/reject verdict


def rules(runs: list[list[float]], materials: list[list[Hashable]] | None = None,
          across_materials: bool = False) -> list[tuple[str, str, int, Hashable]]:
    return [(v.rule, str(v.scope), v.index, v.material) for v in westgard(runs, materials, across_materials)
            if v.reject]


def test_across_runs_follows_the_same_material() -> None:
    # Level 1 at −2.5 s in two consecutive runs: 2-2s across runs, within material (the first case).
    assert rules([[-2.5, 0], [-2.5, 0]]) == [("2-2s", "across runs, within material", 1, 0)]
    # Level 2 of one run and level 1 of the next are different materials: no 2-2s (the false alarm).
    assert rules([[0, 2.5], [2.5, 0]]) == []
    # Within one run, two materials beyond the same 2s: 2-2s within the run, across materials.
    assert rules([[2.1, 2.3]]) == [("2-2s", "within run, across materials", 0, None)]
    assert rules([[2.1, -2.2]]) == [("R-4s", "within run, across materials", 0, None)]
    # R-4s is a within-run rule: +2.5 s in one run and −2.5 s in the next is no R-4s.
    assert rules([[2.5], [-2.5]]) == []


def test_4_1s_and_10x_along_one_material_or_across_both() -> None:
    # Level 1 above +1 s four runs in a row while level 2 wanders: 4-1s within material at the fourth run.
    runs = [[1.2, -0.4], [1.5, 0.3], [1.1, -1.6], [1.3, 0.2]]
    assert rules(runs) == [("4-1s", "across runs, within material", 3, 0)]
    # Two runs of both levels above +1 s: four consecutive results across runs and materials; along one
    # material there are only two, so only the opt-in reading fires.
    two = [[1.2, 1.4], [1.1, 1.3]]
    assert rules(two) == []
    assert rules(two, across_materials=True) == [("4-1s", "across runs and materials", 1, None)]
    # Ten runs of level 2 below the mean, level 1 alternating: 10-x within material for level 2 only.
    ten = [[0.3 if i % 2 else -0.3, -0.2] for i in range(10)]
    assert rules(ten) == [("10-x", "across runs, within material", 9, 1)]
    # Five runs of both levels above the mean: ten results across runs and materials.
    five = [[0.4, 0.2]] * 5
    assert rules(five) == [] and rules(five, across_materials=True) == [("10-x", "across runs and materials",
                                                                         4, None)]
    # A value on the mean breaks the streak (the rule says "on one side").
    assert rules([[0.3]] * 9 + [[0.0]]) == []


def test_materials_named_by_the_caller() -> None:
    # The worksheet's materials in any order and number: the rules follow the names, not the positions.
    runs = [[-2.4, 0.1], [0.2, -2.6]]
    assert rules(runs, materials=[["A", "B"], ["B", "A"]]) == [("2-2s", "across runs, within material", 1, "A")]
    assert rules(runs) == []  # by position, level 1 then level 2: different materials
    # A material with no result in this run fires nothing in it (its last runs were judged already).
    assert rules([[-2.4, 0.0], [-2.5, 0.1], [0.3]], materials=[["A", "B"], ["A", "B"], ["B"]]) == [
        ("2-2s", "across runs, within material", 1, "A")]
    with pytest.raises(StatisticsInputError, match="material"):
        westgard([[1.0, 2.0]], materials=[["A"]])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_control_is_refused(bad: float) -> None:
    with pytest.raises(NotFinite, match="z-score"):
        westgard([[bad]])
    with pytest.raises(NotFinite):
        westgard([[0.1, 0.2], [0.3, bad]])
