"""Calibration of the package's small-sample inference (issue #24): null false-positive
rates at alpha 0.05 and interval coverages at 0.95, each with its binomial tolerance.

Every case returns ``{label: (rate, n_sims, nominal)}``; ``tests/stats/test_calibration.py``
runs them (small ``n_sims`` in CI, full ones under ``-m slow``) and docs/statistics.md
quotes the full runs. Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/calibration.py [case ...] [--n-sims N]

Cases: mixed, mixed-slopes, rank, crossnobis, causal, causal-skewed, shared-pairs, ties,
sweep. With no case every figure of issue #24 is computed, and the table (rate, its Wilson
95% interval, the nominal level, the number of simulations) is written to ``--out``
(default docs/results/calibration/calibration.csv). ``--quick`` uses the smaller sizes
of :data:`QUICK` (minutes of CPU; short runs with wide binomial bands); without it each case runs
at its documented size (hours: the mixed-model and crossnobis cases refit per draw).
"""

from __future__ import annotations

import argparse
import pathlib
import warnings

import numpy as np
import pandas as pd
from scipy import stats

ALPHA, LEVEL = 0.05, 0.95


def tolerance(nominal, n_sims, z=3.0):
    """Half-width of the binomial band a calibrated rate stays inside (z standard errors)."""
    return z * np.sqrt(nominal * (1 - nominal) / n_sims)


def _two_conditions(rng, n_items, slope_sd=0.0):
    items = np.repeat(np.arange(n_items), 2)
    cond = np.tile(["a", "b"], n_items)
    sign = np.where(cond == "a", 0.5, -0.5)
    y = (rng.normal(size=n_items)[items] + slope_sd * rng.normal(size=n_items)[items] * sign
         + rng.normal(size=2 * n_items))
    return pd.DataFrame({"item_id": items, "c": cond, "y": y})


def _between(rng, n_items):
    items = np.repeat(np.arange(n_items), 2)
    level = np.where(items % 2 == 0, "x", "y")
    y = rng.normal(size=n_items)[items] + rng.normal(size=2 * n_items)
    return pd.DataFrame({"item_id": items, "g": level, "y": y})


def mixed(n_sims=400, sizes=(6, 8, 12, 20), seed=0):
    """FPR of the condition term: Wald z against the default (auto) test, within and
    between items."""
    from probing.stats import fit_mixed_model

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n_items in sizes:
            rng = np.random.default_rng(seed + n_items)
            rejected = {"wald": 0, "auto": 0, "between auto": 0}
            for _ in range(n_sims):
                table = _two_conditions(rng, n_items)
                for test in ("wald", "auto"):
                    p = fit_mixed_model(table, outcome="y", fixed=["c"], test=test)["p_val"]
                    rejected[test] += p.iloc[1] < ALPHA
                p = fit_mixed_model(_between(rng, n_items), outcome="y", fixed=["g"])["p_val"]
                rejected["between auto"] += p.iloc[1] < ALPHA
            for name, count in rejected.items():
                out[f"mixed {name}, {n_items} items"] = (count / n_sims, n_sims, ALPHA)
    return out


def mixed_slopes(n_sims=400, n_items=12, seed=1):
    """FPR with by-item random slopes (sd 1) that the fitted model leaves out."""
    from probing.stats import fit_mixed_model

    rng = np.random.default_rng(seed)
    rejected = {"wald": 0, "auto": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_sims):
            table = _two_conditions(rng, n_items, slope_sd=1.0)
            for test in rejected:
                rejected[test] += fit_mixed_model(table, outcome="y", fixed=["c"],
                                                  test=test)["p_val"].iloc[1] < ALPHA
    return {f"mixed {t}, random slopes, {n_items} items": (c / n_sims, n_sims, ALPHA)
            for t, c in rejected.items()}


def rank(n_sims=200_000, n_sets=19, seed=2):
    """Two-sided rank p of an effect among n_sets exchangeable random-set effects."""
    from probing.stats import permutation_pvalue

    values = np.random.default_rng(seed).normal(size=(n_sets + 1, n_sims))
    p = permutation_pvalue(values[0], values[1:], alternative="two-sided")
    return {f"two-sided rank p, {n_sets} sets": (float(np.mean(p <= ALPHA)), n_sims, ALPHA)}


def _crossnobis_coverage(n_items, n_sims, n_boot, weighted, seed):
    from probing.rsa.compute import stack_rdms

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 10)) * 0.4
    diffs = centres[:, None] - centres[None]
    truth = np.mean([diffs[i, j] @ diffs[i, j] for i in range(4) for j in range(i + 1, 4)])
    ids = np.tile(np.arange(4), n_items)
    item_of_row = np.repeat(np.arange(n_items), 4)
    covered = 0
    for _ in range(n_sims):
        X = centres[ids] + rng.normal(size=(4 * n_items, 10))
        stats = []
        for draw in rng.integers(0, n_items, size=(n_boot, n_items)):
            rows = np.concatenate([np.flatnonzero(item_of_row == d) for d in draw])
            folds = item_of_row[rows]
            counts = pd.Series(draw).value_counts(sort=False)
            weights = counts.loc[pd.unique(folds)].to_numpy(float) if weighted else None
            if len(counts) < 2:
                continue
            stats.append(stack_rdms(X[rows], distance="crossnobis", stimulus_ids=ids[rows],
                                    folds=folds, fold_weights=weights,
                                    dtype="float64").values.mean())
        low, high = np.percentile(stats, [2.5, 97.5])
        covered += low <= truth <= high
    return covered / n_sims


def crossnobis(n_sims=200, sizes=(6, 8, 12, 20), n_boot=400, seed=3, old=False):
    """Coverage of the item bootstrap of the mean crossnobis distance (4 conditions): the
    default (a drawn item's fold counts once per copy), and with ``old`` also each drawn
    item once (the default before issue #24)."""
    out = {}
    for n_items in sizes:
        for weighted in (False, True) if old else (True,):
            name = "copies weighted" if weighted else "each item once"
            rate = _crossnobis_coverage(n_items, n_sims, n_boot, weighted, seed + n_items)
            out[f"crossnobis item bootstrap ({name}), {n_items} items"] = (rate, n_sims, LEVEL)
    return out


def causal(n_sims=4000, designs=((8, 1), (12, 1), (20, 1), (60, 1), (8, 3)), n_boot=1000,
           seed=4, skewed=False):
    """Coverage of the mean effect's item interval: t (default) against the percentile
    item bootstrap; normal pair effects (centred exponential ones with ``skewed``), item
    effects when items hold several pairs."""
    from probing.causal._resample import draw_group_counts
    from probing.stats import item_intervals

    out = {}
    for n_items, per_item in designs:
        rng = np.random.default_rng(seed + n_items * per_item)
        groups = np.repeat(np.arange(n_items), per_item)
        shape = (n_items * per_item, n_sims)
        noise = rng.exponential(size=shape) - 1.0 if skewed else rng.normal(size=shape)
        y = rng.normal(size=(n_items, n_sims))[groups] * (per_item > 1) + noise
        indicator = (groups[None] == np.arange(n_items)[:, None]).astype(float)
        num, den = indicator @ y, indicator @ np.ones_like(y)
        counts = draw_group_counts(n_items, n_boot, seed)
        label = f"{n_items} pairs" if per_item == 1 else f"{n_items} items x {per_item} pairs"
        label += ", skewed" if skewed else ""
        for interval in ("t", "percentile"):
            _, low, high = item_intervals(num, den, counts, interval=interval)
            out[f"causal interval ({interval}), {label}"] = (
                float(np.mean((low < 0) & (0 < high))), n_sims, LEVEL)
    return out


def shared_pairs(n_sims=1000, n_items=30, per_item=4, seed=5):
    """Minimal pairs sharing items (item preferences uniform in 0.5 +- 0.35): FPR of the
    accuracy test and coverage of 0.5, pairs as independent against items as units."""
    from probing.behaviour import summarize_pairs

    rng = np.random.default_rng(seed)
    counts = {c: [0, 0] for c in ("items as units", "pairs as independent")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_sims):
            p_item = 0.5 + rng.uniform(-0.35, 0.35, n_items)
            items = np.repeat(np.arange(n_items), per_item)
            pairs = pd.DataFrame({"phenomenon": "p", "item_id": items, "identical": False,
                                  "correct": (rng.random(items.size) < p_item[items]) * 1.0})
            for name, cluster in (("items as units", "auto"), ("pairs as independent", None)):
                row = summarize_pairs(pairs, n_boot=10, cluster=cluster).iloc[0]
                counts[name][0] += row["p_val"] <= ALPHA
                counts[name][1] += row["ci_low"] <= 0.5 <= row["ci_high"]
    out = {}
    for name, (rejected, covered) in counts.items():
        label = f"{n_items} items x {per_item} pairs, {name}"
        out[f"shared-item pairs FPR, {label}"] = (rejected / n_sims, n_sims, ALPHA)
        out[f"shared-item pairs coverage, {label}"] = (covered / n_sims, n_sims, LEVEL)
    return out


def ties(n_ties=30):
    """Accuracy interval of 30 tied pairs (scored as the default says): must hold 0.5."""
    from probing.behaviour import summarize_pairs

    pairs = pd.DataFrame({"phenomenon": "p", "identical": False, "tie": True,
                          "correct": np.full(n_ties, 0.5)})
    row = summarize_pairs(pairs, n_boot=10).iloc[0]
    return {f"{n_ties} ties: 0.5 inside [{row['ci_low']:.3f}, {row['ci_high']:.3f}]": (
        float(row["ci_low"] <= 0.5 <= row["ci_high"]), 1, 1.0)}


def _correlated_cells(n_layers, n_positions, rho_layer=0.8, rho_position=0.5):
    """Cholesky factor of AR(1) correlation over layers times exchangeable over positions."""
    layers = rho_layer ** np.abs(np.subtract.outer(np.arange(n_layers), np.arange(n_layers)))
    positions = np.full((n_positions, n_positions), rho_position)
    np.fill_diagonal(positions, 1.0)
    return np.linalg.cholesky(np.kron(layers, positions))


def sweep(n_sims=1000, sizes=(8, 12, 20), grid=(10, 3), per_item=2, n_perm=1000, seed=6):
    """A patching sweep under the global null (10 layers x 3 positions = 30 correlated
    cells; items of 2 pairs sharing an item effect): family-wise error rate of max_t,
    fdr_bh and no correction, and simultaneous coverage of every cell's effect by the
    max_t intervals and by per-cell t intervals."""
    from threadpoolctl import threadpool_limits

    from probing.stats import correct_pvalues, max_t_test

    root = _correlated_cells(*grid)
    out = {}
    for n_items in sizes:
        rng = np.random.default_rng(seed + n_items)
        counts = dict.fromkeys(("max_t", "fdr_bh", "none", "cover max_t", "cover per-cell"), 0)
        # one BLAS thread: the many small products are slower threaded on a busy machine
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sim in range(n_sims):
                item = rng.normal(size=(n_items, root.shape[0])) @ root.T
                pairs = item[:, None] + rng.normal(size=(n_items, per_item, root.shape[0])) @ root.T
                num = pairs.sum(1)
                result = max_t_test(num, np.full(num.shape, float(per_item)), n_perm=n_perm,
                                    random_state=sim)
                counts["max_t"] += (result.p_corr <= ALPHA).any()
                counts["fdr_bh"] += (correct_pvalues(result.p_val, correction="fdr_bh")
                                     <= ALPHA).any()
                counts["none"] += (result.p_val <= ALPHA).any()
                counts["cover max_t"] += ((result.ci_low < 0) & (0 < result.ci_high)).all()
                half = result.std_err * stats.t.ppf((1 + LEVEL) / 2, n_items - 1)
                counts["cover per-cell"] += (np.abs(result.estimate) < half).all()
        label = f"{n_items} items x {per_item} pairs, {root.shape[0]} cells"
        for name in ("max_t", "fdr_bh", "none"):
            out[f"sweep FWER ({name}), {label}"] = (counts[name] / n_sims, n_sims, ALPHA)
        for name in ("max_t", "per-cell"):
            out[f"sweep simultaneous coverage ({name}), {label}"] = (
                counts[f"cover {name}"] / n_sims, n_sims, LEVEL)
    return out


def causal_skewed(n_sims=4000, n_boot=1000, seed=4):
    """:func:`causal` with centred exponential pair effects (skewness 2): a stress case."""
    return causal(n_sims=n_sims, n_boot=n_boot, seed=seed, skewed=True)


CASES = {"mixed": mixed, "mixed-slopes": mixed_slopes, "rank": rank, "crossnobis": crossnobis,
         "causal": causal, "causal-skewed": causal_skewed, "shared-pairs": shared_pairs,
         "ties": ties, "sweep": sweep}


#: Sizes of ``--quick`` (the committed table): every figure, fewer simulations.
QUICK = {"mixed": {"n_sims": 20}, "mixed-slopes": {"n_sims": 20},
         "crossnobis": {"n_sims": 12, "n_boot": 60}, "causal": {"n_sims": 2000, "n_boot": 200},
         "causal-skewed": {"n_sims": 2000, "n_boot": 200}, "shared-pairs": {"n_sims": 100},
         "sweep": {"n_sims": 200, "n_perm": 200}}
OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results" / "calibration" / \
    "calibration.csv"


def build_table(results):
    """One row per figure: ``case, figure, rate, ci_low, ci_high`` (Wilson 95% interval
    of the rate), ``nominal, n_sims, band`` (3 binomial standard errors) and ``ok``
    (false-positive rates at most nominal + band, coverages at least nominal - band)."""
    from probing.stats import proportion_ci

    rows = []
    for case, figures in results.items():
        for label, (rate, n, nominal) in figures.items():
            low, high = proportion_ci(rate * n, n)
            band = tolerance(nominal, n) if n > 1 else 0.0
            ok = rate <= nominal + band if nominal < 0.5 else rate >= nominal - band
            rows.append({"case": case, "figure": label, "rate": rate, "ci_low": low,
                         "ci_high": high, "nominal": nominal, "n_sims": n, "band": band,
                         "ok": bool(ok)})
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # checked below: argparse refuses an empty nargs="*" list when choices are given
    parser.add_argument("cases", nargs="*", help=f"any of {', '.join(CASES)} (default all)")
    parser.add_argument("--n-sims", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="the sizes of QUICK")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    if set(args.cases) - set(CASES):
        parser.error(f"unknown case(s) {sorted(set(args.cases) - set(CASES))}")
    results = {}
    for case in args.cases or list(CASES):
        kwargs = QUICK.get(case, {}) if args.quick else {}
        if args.n_sims is not None and case != "ties":
            kwargs = {**kwargs, "n_sims": args.n_sims}
        results[case] = CASES[case](**kwargs)
        for row in build_table({case: results[case]}).itertuples(index=False):
            print(f"{row.figure:70s} {row.rate:.4f} [{row.ci_low:.3f}, {row.ci_high:.3f}]  "
                  f"(nominal {row.nominal}, +-{row.band:.4f}, n {row.n_sims}) "
                  f"{'ok' if row.ok else 'OFF'}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    build_table(results).to_csv(args.out, index=False, float_format="%.4f")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
