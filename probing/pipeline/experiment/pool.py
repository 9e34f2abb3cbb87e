"""Pool one analysis over the seeds of a paradigm: the mean and the spread across draws."""

from __future__ import annotations

import pandas as pd

from probing._core.deprecation import renamed
from probing._core.io import read_run_table, write_frame

__all__ = ["POOLED_COLUMNS", "pool_seeds", "pool_step_tables"]

#: Columns of a pooled table after the ``by`` columns.
POOLED_COLUMNS = ("metric", "estimate", "sd", "min", "max", "n", "seeds")


@renamed(value="column")
def pool_seeds(frames, *, by, column):
    """Per seed, the mean of ``estimate`` within ``by``; across seeds, mean, sd, min and max.

    Parameters
    ----------
    frames : dict of seed label -> pandas.DataFrame
        One table per seed (rows per item, pair or layer).
    by : sequence of str
        Columns that identify one estimate (``phenomenon``, ``layer``...).
    column : str
        The column to pool.

    Returns
    -------
    pandas.DataFrame
        ``*by, metric, estimate, sd, min, max, n, seeds``: ``metric`` names the pooled
        column (or, when ``by`` has a ``metric`` column, keeps that column's values), ``sd`` is the standard deviation across seeds (ddof=1; NaN for one seed),
        ``n`` the number of seeds and ``seeds`` their labels.

    Examples
    --------
    >>> import pandas as pd
    >>> frames = {"0": pd.DataFrame({"layer": [0, 0], "estimate": [1.0, 3.0]}),
    ...           "1": pd.DataFrame({"layer": [0, 0], "estimate": [3.0, 5.0]})}
    >>> pool_seeds(frames, by=["layer"], column="estimate")[["layer", "estimate", "sd", "n"]]
       layer  estimate        sd  n
    0      0       3.0  1.414214  2
    """
    by = [c for c in by if all(c in f for f in frames.values())]
    per_seed = []
    for label, frame in frames.items():
        # an empty cell (a statistic not defined for this draw) is read back as "": NaN
        frame = frame.assign(**{column: pd.to_numeric(frame[column], errors="coerce")})
        means = frame.groupby(by, sort=True, dropna=False)[column].mean().reset_index()
        per_seed.append(means.assign(_seed=str(label)))
    stacked = pd.concat(per_seed, ignore_index=True)
    grouped = stacked.groupby(by, sort=True, dropna=False)
    out = grouped[column].agg(["mean", "std", "min", "max", "count"]).reset_index()
    out = out.rename(columns={"mean": "estimate", "std": "sd", "count": "n"})
    out["seeds"] = grouped["_seed"].agg(lambda s: ",".join(s)).to_numpy()
    if "metric" in by:  # a long table: its own metric column names what the estimate is
        return out[[*[c for c in by if c != "metric"], *POOLED_COLUMNS]]
    out.insert(len(by), "metric", column)
    return out[[*by, *POOLED_COLUMNS]]


def pool_step_tables(dep_folders, labels, pool, *, model, paradigm, out):
    """Pool each ``(table, by, value)`` of ``pool`` over ``dep_folders``; write ``out``.

    Tables missing from the step folders (a minimal-pairs paradigm has no
    ``predictions``) are skipped.
    """
    written = {}
    for table, by, value in pool:
        paths = [folder / f"{table}.csv" for folder in dep_folders]
        if not all(p.exists() for p in paths):
            continue
        frames = {label: read_run_table(p) for label, p in zip(labels, paths, strict=True)}
        if any(value not in f for f in frames.values()):
            continue
        pooled = pool_seeds(frames, by=by, column=value).assign(model=model, paradigm=paradigm)
        write_frame(pooled, out / f"{table}.csv", ".csv")
        written[table] = pooled
    return written
