"""The calibration suite (benchmarks/calibration.py): every default of issue #24 within
binomial tolerance of its nominal level. The slow tests run the documented sizes; the
fast ones a small subset that CI runs in seconds."""

import importlib.util

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("calibration", REPO / "benchmarks" / "calibration.py")
calibration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(calibration)

#: The labels whose rates are the package's defaults (the others document the old behaviour).
DEFAULTS = ("mixed auto", "mixed between auto", "two-sided rank", "copies weighted",
            "causal interval (t)", "items as units", "ties", "sweep FWER (max_t)",
            "sweep FWER (fdr_bh)", "simultaneous coverage (max_t)")


def _check(results, z=3.0):
    """False-positive rates at most nominal + band; coverages at least nominal - band."""
    checked = 0
    for label, (rate, n, nominal) in results.items():
        if not any(key in label for key in DEFAULTS) or "skewed" in label:
            continue
        band = calibration.tolerance(nominal, n, z) if n > 1 else 0.0
        if nominal < 0.5:
            assert rate <= nominal + band, (label, rate, band)
        else:
            assert rate >= nominal - band, (label, rate, band)
        checked += 1
    assert checked


def test_rank_fast():
    _check(calibration.rank(n_sims=20_000))


def test_causal_fast():
    _check(calibration.causal(n_sims=2000, n_boot=200))


def test_ties_fast():
    _check(calibration.ties())


def test_mixed_fast():
    _check(calibration.mixed(n_sims=30, sizes=(6,)), z=4.0)


def test_shared_pairs_fast():
    _check(calibration.shared_pairs(n_sims=100), z=4.0)


def test_crossnobis_fast():
    _check(calibration.crossnobis(n_sims=10, sizes=(10,), n_boot=60), z=4.0)


def test_table_holds_rate_interval_and_nominal():
    table = calibration.build_table({"ties": calibration.ties(),
                                     "rank": calibration.rank(n_sims=2000)})
    assert table.columns.tolist() == ["case", "figure", "rate", "ci_low", "ci_high",
                                      "nominal", "n_sims", "band", "ok"]
    rank = table[table.case == "rank"].iloc[0]
    assert rank.ci_low < rank.rate < rank.ci_high and rank.nominal == 0.05 and rank.ok


def test_sweep_fast():
    _check(calibration.sweep(n_sims=150, sizes=(8, 12), n_perm=300), z=4.0)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["mixed", "mixed-slopes", "rank", "crossnobis", "causal",
                                  "shared-pairs", "sweep"])
def test_documented_sizes(case):
    _check(calibration.CASES[case]())
