"""Issue #26 item 2: tables of the false-belief behaviour and the ToM / language lesions.

Reads run folders made with the commands in ``docs/results/tom_lesion/README.md`` (six
``probing run`` folders and two ``probing lesion`` study folders; no model is loaded
here) and writes the small tables the notebook ``08_theory_of_mind`` reads::

    PYTHONPATH=$PWD python benchmarks/tom_lesion.py --behaviour RUNS/behaviour \
        --lesion tom=RUNS/lesion-tom language=RUNS/lesion-language \
        --tables docs/results/tom_lesion

Tables: ``behaviour.csv`` (accuracy of each paradigm, Wilson interval, n_items),
``lesion.csv``, ``lesion_behaviour.csv``, ``lesion_null.csv`` (one column per random set)
and ``dissociation.csv``: for each unit set, the difference between its effect on two
paradigms (false belief minus true belief, false belief minus agreement), tested against
the same difference of every matched random set (random set ``s`` is the same units in
every paradigm of a study, so its difference is one draw of the null), one-sided in the
direction the dissociation predicts (ToM units hurt false belief more; language units
hurt agreement more), rank p ``(b + 1) / (n_sets + 1)``, Holm over all rows of a metric.
The interval of a difference combines the two item-bootstrap intervals as independent
normal errors (the paradigms' items differ, except the matched false/true-belief twins,
where this is conservative).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Z = 1.959963984540054
# (unit set, paradigm hurt more, paradigm hurt less): the predicted dissociation
CONTRASTS = (("tom", "false_belief_transfer", "true_belief_transfer"),
             ("tom", "false_belief_transfer", "agreement_simple"),
             ("language", "agreement_simple", "false_belief_transfer"),
             ("language", "agreement_simple", "true_belief_transfer"))


PARADIGMS = ("false_belief_transfer", "true_belief_transfer", "false_belief_contents",
             "true_belief_contents", "false_belief_second_order", "true_belief_second_order")


def run_behaviour(folder, paradigms=PARADIGMS):
    """``probing run`` of each paradigm into ``folder/<paradigm>``, with one model load."""
    from probing.models import load_model
    from probing.pipeline.paradigm_run import RunOptions, run_paradigm

    Path(folder).mkdir(parents=True, exist_ok=True)
    lm = load_model("smollm2-135m", device="cpu")
    for name in paradigms:
        if not (Path(folder) / name / "summary.csv").is_file():
            run_paradigm(ROOT / "paradigms" / f"{name}.yaml", lm, Path(folder) / name,
                         options=RunOptions(batch_size=40), force=True)


def behaviour_table(folder):
    """Accuracy and margin of each ``probing run`` folder under ``folder``."""
    rows = []
    for run in sorted(Path(folder).iterdir()):
        if (run / "summary.csv").is_file():
            rows.append(pd.read_csv(run / "summary.csv").assign(paradigm=run.name))
    return pd.concat(rows, ignore_index=True)


def _partial_lesion(folder):
    """``lesion.csv`` rebuilt from the finished paradigm folders of an unfinished study.

    The same columns, with Holm over the phenomena that finished (a smaller family than
    the study's; the README says which tables were built this way).
    """
    from probing.causal import normal_null_pvalue
    from probing.stats import correct_pvalues

    rows = []
    for run in sorted(p.parent for p in folder.glob("*/manifest.json")):
        given = pd.read_csv(run / "ablation.csv").query("unit_set == 'given'")
        null = pd.read_csv(run / "ablation_null.csv")
        for _, row in given.iterrows():
            sets = null[(null["phenomenon"] == row["phenomenon"])
                        & (null["metric"] == row["metric"])]["estimate"].to_numpy()
            stat, p_normal = normal_null_pvalue(row["estimate"], sets)
            rows.append({**row[["phenomenon", "metric", "estimate", "ci_low", "ci_high", "p_val",
                                "n", "n_sets", "model", "paradigm"]].to_dict(),
                         "null_mean": sets.mean(), "null_sd": sets.std(ddof=1), "stat": stat,
                         "p_normal": p_normal})
    table = pd.DataFrame(rows)
    for column in ("p_val", "p_normal"):
        table[f"{column}_corr".replace("p_val_corr", "p_corr")] = table.groupby("metric")[
            column].transform(lambda p: correct_pvalues(p.to_numpy()))
    return table.assign(correction="holm", partial=True)


def _tables(folder, name, stem):
    """The study's table ``stem``, or the paradigm folders' tables joined (unfinished)."""
    if (folder / f"{stem}.csv").is_file():
        return pd.read_csv(folder / f"{stem}.csv").assign(units=name)
    parts = [pd.read_csv(m.parent / f"{stem}.csv") for m in sorted(folder.glob("*/manifest.json"))]
    return pd.concat(parts, ignore_index=True).assign(units=name)


def _study(name, folder):
    folder = Path(folder)
    if not (folder / "lesion.csv").is_file():
        return {"lesion": _partial_lesion(folder).assign(units=name),
                "behaviour": _tables(folder, name, "ablation_behaviour"),
                "null": _tables(folder, name, "ablation_null")}
    return {"lesion": pd.read_csv(folder / "lesion.csv").assign(units=name),
            "behaviour": pd.read_csv(folder / "ablation_behaviour.csv").assign(units=name),
            "null": pd.read_csv(folder / "ablation_null.csv").assign(units=name)}


def dissociation(lesion, null, contrasts=CONTRASTS):
    """Difference of one unit set's effects on two paradigms, against its random sets."""
    from probing.stats import correct_pvalues, permutation_pvalue

    rows = []
    for units, more, less in contrasts:
        for metric in lesion["metric"].unique():
            pick = lesion[(lesion["units"] == units) & (lesion["metric"] == metric)]
            a, b = (pick[pick["paradigm"] == p] for p in (more, less))
            sets = null[(null["units"] == units) & (null["metric"] == metric)]
            by_set = sets.pivot_table(index="set", columns="paradigm", values="estimate")
            if a.empty or b.empty or not {more, less} <= set(by_set.columns):
                continue
            a, b = a.iloc[0], b.iloc[0]
            diff = a["estimate"] - b["estimate"]
            se = np.hypot((a["ci_high"] - a["ci_low"]) / (2 * Z),
                          (b["ci_high"] - b["ci_low"]) / (2 * Z))
            null_diff = (by_set[more] - by_set[less]).to_numpy()
            rows.append({"units": units, "metric": metric, "hurt_more": more, "hurt_less": less,
                         "effect_more": a["estimate"], "effect_less": b["estimate"],
                         "difference": diff, "ci_low": diff - Z * se, "ci_high": diff + Z * se,
                         "null_mean": null_diff.mean(), "null_sd": null_diff.std(ddof=1),
                         "p_val": permutation_pvalue(diff, null_diff, alternative="less"),
                         "n_sets": len(null_diff), "n_more": a["n"], "n_less": b["n"]})
    table = pd.DataFrame(rows)
    if table.empty:  # an unfinished study: no pair of paradigms to compare yet
        return table
    table["p_corr"] = np.nan
    for _, idx in table.groupby("metric").groups.items():
        table.loc[idx, "p_corr"] = correct_pvalues(table.loc[idx, "p_val"].to_numpy())
    table["correction"] = "holm"
    return table


def summarize(args):
    studies = [_study(*spec.split("=", 1)) for spec in args.lesion]
    lesion = pd.concat([s["lesion"] for s in studies], ignore_index=True)
    null = pd.concat([s["null"] for s in studies], ignore_index=True)
    return {"behaviour": behaviour_table(args.behaviour), "lesion": lesion,
            "lesion_behaviour": pd.concat([s["behaviour"] for s in studies], ignore_index=True),
            "lesion_null": null.pivot_table(index=["units", "paradigm", "phenomenon", "metric"],
                                            columns="set", values="estimate")
            .add_prefix("set_").reset_index(),
            "dissociation": dissociation(lesion, null)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--behaviour", type=Path, required=True,
                        help="folder of probing run folders, one per paradigm")
    parser.add_argument("--lesion", nargs="+", metavar="NAME=DIR",
                        help="probing lesion study folders (tom=..., language=...)")
    parser.add_argument("--tables", type=Path, help="write the tables here")
    parser.add_argument("--run-behaviour", action="store_true",
                        help="first run the six paradigms into --behaviour (loads the model)")
    args = parser.parse_args(argv)
    if args.run_behaviour:
        run_behaviour(args.behaviour)
        if not args.lesion:
            return
    tables = summarize(args)
    pd.set_option("display.width", 220)
    for name, table in tables.items():
        print(f"== {name}")
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}", max_cols=20))
        if args.tables:
            args.tables.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.tables / f"{name}.csv", index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
