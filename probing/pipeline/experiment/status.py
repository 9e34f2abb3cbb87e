"""``probing status DIR``: each step of an experiment folder as done, missing, stale or
changed by hand (``dvc status`` is the model).

The steps are planned again from the experiment file the folder's last run recorded
(its absolute path, in ``manifest.json``), or from a file given explicitly; each step's
outputs are compared with the SHA-256 hashes its ``step.json`` recorded when it
completed. Step folders of the folder that the plan no longer has are listed as
``orphan``. Nothing is written and no model is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing.pipeline.experiment.experiment_spec import load_experiment
from probing.pipeline.experiment.lock import lock_holder
from probing.pipeline.experiment.plan import STEP_FILE, plan_experiment, step_state

__all__ = ["experiment_status", "format_status"]


def _experiment_file(out, path):
    if path is not None:
        return Path(path)
    try:
        recorded = json.loads((Path(out) / "manifest.json").read_text())["experiment"]["path"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ProbingError(f"{out}: no readable manifest.json; is it the --out folder of "
                           f"probing experiment? (or pass --experiment FILE)") from None
    if not Path(recorded).is_file():
        raise ProbingError(f"{out}: the experiment file it was run from, {recorded}, is gone; "
                           f"pass --experiment FILE")
    return Path(recorded)


def experiment_status(out, *, path=None):
    """One row per step: ``folder, kind, state`` (``done``, ``missing``, ``stale``,
    ``changed``, or ``orphan`` for a step folder the plan no longer has).

    Parameters
    ----------
    out : path-like
        A results folder of ``probing experiment``.
    path : path-like, optional
        The experiment file (default: the one the folder's last run recorded).

    Returns
    -------
    pandas.DataFrame
        Columns ``folder, kind, state``, in plan order, orphans last.
    """
    out = Path(out)
    if not out.is_dir():
        raise ProbingError(f"{out}: no such folder")
    steps = plan_experiment(load_experiment(_experiment_file(out, path)))
    rows = [{"folder": s.folder, "kind": s.kind, "state": step_state(out, s)} for s in steps]
    planned = {s.folder for s in steps}
    for record in sorted(out.rglob(STEP_FILE)):
        folder = record.parent.relative_to(out).as_posix()
        if folder not in planned and not folder.startswith("."):
            rows.append({"folder": folder, "kind": "", "state": "orphan"})
    return pd.DataFrame(rows, columns=["folder", "kind", "state"])


def format_status(out, table):
    """The lines ``probing status`` prints: one per step, then the counts and the lock."""
    lines = [f"{row.state:8} {row.folder}" for row in table.itertuples()]
    counts = table["state"].value_counts()
    lines.append(", ".join(f"{n} {state}" for state, n in counts.items()) or "no steps")
    holder = lock_holder(out)
    if holder is not None:
        lines.append(f"in use by pid {holder.get('pid')} on {holder.get('host')} since "
                     f"{holder.get('started')}")
    return "\n".join(lines)
