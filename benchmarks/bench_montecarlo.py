"""Uncertainty: a 10⁶-trial Monte Carlo propagation (JCGM 101) of a 6-input model, under 2 s.

The model is a chemical result with six inputs of four kinds of distribution: c = (m_read − m_blank) · V · f
/ (m_sample · R), with normal, rectangular, triangular and t inputs, as `quality.stats.montecarlo.run` takes
it: draw, evaluate, sort, mean, standard deviation and shortest 95 % interval. Baseline, in the same run:
drawing the same 6 × 10⁶ random numbers alone (the generator's floor).

    python benchmarks/bench_montecarlo.py
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import ROOT, report

TRIALS = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from opentic.numerics.stats.montecarlo import Distribution, run

    inputs = {
        "m_read": Distribution("normal", 0.0542, 0.0011),  # instrument reading, mg/L
        "m_blank": Distribution("rectangular", 0.0, 0.0008),  # blank, mg/L
        "volume": Distribution("triangular", 49.95, 50.05),  # mL, class A flask
        "dilution": Distribution("normal", 1.0, 0.004),
        "mass": Distribution("t", 0.5012, 0.0002, 9),  # g, 10 weighings
        "recovery": Distribution("rectangular", 0.95, 1.03),
    }

    def model(x):  # type: ignore[no-untyped-def]
        return (x["m_read"] - x["m_blank"]) * x["volume"] * x["dilution"] / (x["mass"] * 1000) / x["recovery"] * 1000

    def floor() -> None:
        rng = np.random.default_rng(7)
        rng.normal(size=TRIALS), rng.uniform(size=TRIALS), rng.triangular(0, 0.5, 1, TRIALS)
        rng.normal(size=TRIALS), rng.standard_t(9, TRIALS), rng.uniform(size=TRIALS)

    baseline, value = [], []
    for i in range(args.rounds):
        started = time.perf_counter()
        floor()
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = run(model, inputs, TRIALS, seed=i)
        value.append(time.perf_counter() - started)
    median, base = statistics.median(value), statistics.median(baseline)
    print(f"10^6 trials, 6 inputs: y = {result.value:.5f} mg/kg, u = {result.u:.5f}, 95 % [{result.low:.5f}, "
          f"{result.high:.5f}]; {median * 1000:.0f} ms, drawing alone {base * 1000:.0f} ms (medians of {args.rounds})")
    report("montecarlo_1e6_6_inputs", median, "s (median)", base, "< 2 s", median < 2.0)


if __name__ == "__main__":
    main()
