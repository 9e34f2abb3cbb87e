"""The README's main job: a real experiment on the embedded default model.

A BLiMP subset (12 phenomena x 100 pairs from the bundled sample), the shipped
agreement paradigms and one SyntaxGym suite, each in its own run folder, then one
accuracy table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from probing.pipeline.paradigm_run import RunOptions, check_run_folder, run_paradigm

DEMO_PARADIGMS = ("blimp_demo", "agreement_simple", "agreement_pp_attractor",
                  "agreement_rc_attractor", "determiner_noun_agreement", "reflexive_agreement",
                  "npi_licensing", "syntaxgym_fgd_subject")


def run_demo(lm, out, *, paradigm_dir, options=None, force=True, progress=print):
    """Run every demo paradigm into ``out/<paradigm>`` and return the accuracy table.

    Returns
    -------
    pandas.DataFrame
        ``paradigm, phenomenon, n, accuracy, ci_low, ci_high, p_corr`` (SyntaxGym
        predictions report ``n`` items and their accuracy, without a test).
    """
    options = options or RunOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in DEMO_PARADIGMS:
        folder = out / name
        check_run_folder(folder, force=force)
        progress(f"running {name} ...")
        tables = run_paradigm(Path(paradigm_dir) / f"{name}.yaml", lm, folder, options=options,
                              force=force)
        rows.append(_accuracy_rows(name, tables))
    return pd.concat(rows, ignore_index=True)


def _accuracy_rows(name, tables):
    if "summary" in tables:
        summary = tables["summary"]
        return summary.assign(paradigm=name)[["paradigm", "phenomenon", "n", "accuracy", "ci_low",
                                              "ci_high", "p_corr"]]
    from probing.behaviour import summarize_predictions  # accuracy per prediction, once

    summary = summarize_predictions(tables["predictions"])
    return summary.assign(paradigm=name, phenomenon=[f"prediction {i + 1}" for i in
                                                     range(len(summary))])[
        ["paradigm", "phenomenon", "n", "accuracy", "ci_low", "ci_high"]]
