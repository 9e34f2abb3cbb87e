"""Where a patching effect moves from one position to another across layers."""

from __future__ import annotations

import numpy as np
import pandas as pd  # noqa: F401  (the example uses it)

from probing._core.errors import ProbingError

__all__ = ["CROSSOVER_COLUMNS", "locate_crossover"]

#: Columns of :func:`locate_crossover`.
CROSSOVER_COLUMNS = ("layer", "metric", "from_position", "to_position", "from_effect",
                     "from_ci_low", "from_ci_high", "to_effect", "to_ci_low", "to_ci_high",
                     "moved")


def locate_crossover(table, *, from_position, to_position, metric="restored_fraction",
                     direction="denoising"):
    """Per layer, the patching effect at two positions and whether it has moved.

    Parameters
    ----------
    table : pandas.DataFrame
        A patching table (:data:`probing.causal.PATCHING_COLUMNS`), one site, no heads
        (``head`` -1 or missing, or no ``head`` column).
    from_position, to_position
        Position labels (e.g. ``"1:subject"`` and ``"3:attractor"``).
    metric : str, default "restored_fraction"
    direction : str, default "denoising"

    Returns
    -------
    pandas.DataFrame
        :data:`CROSSOVER_COLUMNS`, one row per layer in increasing order; ``moved`` is
        True at a layer from which on the effect at ``to_position`` exceeds the one at
        ``from_position`` at every later layer too (the first True row is the layer
        where the effect has moved).

    Examples
    --------
    >>> rows = [("denoising", layer, "resid_post", pos, -1, "restored_fraction", eff,
    ...          eff - 0.1, eff + 0.1, 6)
    ...         for layer, a, b in [(0, 1.0, 0.0), (1, 0.6, 0.3), (2, 0.1, 0.9)]
    ...         for pos, eff in (("subject", a), ("verb", b))]
    >>> table = pd.DataFrame(rows, columns=["direction", "layer", "site", "position",
    ...                                     "head", "metric", "estimate", "ci_low",
    ...                                     "ci_high", "n_pairs"])
    >>> locate_crossover(table, from_position="subject", to_position="verb")["moved"].tolist()
    [False, False, True]
    """
    func = "locate_crossover"
    need = {"direction", "layer", "position", "metric", "estimate", "ci_low", "ci_high"}
    if missing := need - set(table.columns):
        raise ProbingError(f"{func}: table lacks column(s) {sorted(missing)}")
    rows = table[(table["metric"] == metric) & (table["direction"] == direction)]
    # no head: -1 from the analysis, empty once written to a CSV
    if "head" in rows and (rows["head"].notna() & (rows["head"] != -1)).any():
        raise ProbingError(f"{func}: the table has per-head rows; pass one head or none")
    if "site" in rows and rows["site"].nunique() > 1:
        raise ProbingError(f"{func}: the table has several sites; pass one")
    sides = {}
    for name, position in (("from", from_position), ("to", to_position)):
        part = rows[rows["position"].astype(str) == str(position)]
        if part.empty:
            raise ProbingError(f"{func}: no {metric!r} rows at position {position!r} "
                               f"({direction})")
        part = part.set_index("layer")[["estimate", "ci_low", "ci_high"]]
        # each side's estimate is the effect at its position (from_effect, to_effect)
        sides[name] = part.rename(columns={"estimate": "effect"}).add_prefix(f"{name}_")
    out = sides["from"].join(sides["to"], how="inner").sort_index()
    ahead = (out["to_effect"] > out["from_effect"]).to_numpy()
    # ahead here and at every later layer: a reversed cumulative AND
    out["moved"] = np.logical_and.accumulate(ahead[::-1])[::-1]
    out = out.reset_index().assign(metric=metric, from_position=from_position,
                                   to_position=to_position)
    return out[list(CROSSOVER_COLUMNS)]
