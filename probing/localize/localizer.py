"""One localizer: unit statistics of a contrast, then a selection rule, as one tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.localize.glm import ALTERNATIVES, STAT_COLUMNS, compute_unit_stats
from probing.localize.responses import UNIT_COLUMNS
from probing.localize.select import SELECTIONS, compute_fwe_pvalues, correct_fdr, select_top

__all__ = ["UNITS_COLUMNS", "compare_selections", "localize_units"]

#: Columns of :func:`localize_units`, one row per unit.
UNITS_COLUMNS = (*UNIT_COLUMNS, *STAT_COLUMNS, "p_corr", "correction", "selected")
_CORRECTION = {"top": "none", "fdr": "fdr_bh", "fwe": "max_t"}


@renamed(units="unit_table")
def localize_units(responses, unit_table, conditions, contrast, *, selection="top", top_percent=1.0,
                   alpha=0.05, per_layer=False, test="glm", nuisance=None,
                   alternative="greater", n_perm=1000, random_state=0):
    """Test ``A - B`` in every unit and select the units a localizer would keep.

    Parameters
    ----------
    responses : array-like
        ``(n_stimuli, n_units)`` (see :func:`~probing.localize.build_unit_responses`).
    unit_table : pandas.DataFrame
        ``layer, site, unit`` of each column of ``responses``.
    conditions : array-like of str
        ``(n_stimuli,)``, each one of the two conditions of ``contrast``.
    contrast : (str, str)
        ``(A, B)``.
    selection : {"top", "fdr", "fwe"}
        Top ``top_percent`` %, Benjamini-Hochberg at ``alpha``, or max-T permutations
        (``n_perm``) at ``alpha``.
    top_percent, alpha : float
    per_layer : bool
        Select within each layer (top-k% per layer; FDR or max-T families per layer)
        instead of over the whole model.
    test : {"glm", "welch"}
        ``fwe`` needs the GLM (its permutations refit the same OLS model).
    nuisance : pandas.DataFrame, optional
        Nuisance regressors (GLM only).
    alternative : {"greater", "less", "two-sided"}
    n_perm, random_state : int
        Permutations of ``fwe``.

    Returns
    -------
    pandas.DataFrame
        :data:`UNITS_COLUMNS`: ``layer, site, unit, effect, cohens_d, stat, z, dof, p_val,
        p_corr, correction`` (``none``, ``fdr_bh`` or ``max_t``), ``selected``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(40, 100)); y[:20, :3] += 2
    >>> units = pd.DataFrame({"layer": 0, "site": "resid_post", "unit": range(100)})
    >>> out = localize_units(y, units, ["s"] * 20 + ["n"] * 20, ("s", "n"), selection="fwe",
    ...                      n_perm=500)
    >>> out.loc[out.selected, "unit"].tolist()
    [0, 1, 2]
    """
    if selection not in SELECTIONS:
        raise ProbingError(f"selection {selection!r}: allowed {', '.join(SELECTIONS)}")
    if alternative not in ALTERNATIVES:
        raise ProbingError(f"alternative {alternative!r}: allowed {', '.join(ALTERNATIVES)}")
    if selection == "fwe" and test != "glm":
        raise ProbingError("selection 'fwe' permutes the GLM; use test='glm'")
    if not 0 < alpha < 1:
        raise ProbingError(f"alpha must be in (0, 1); got {alpha!r}")
    missing = [c for c in UNIT_COLUMNS if c not in unit_table]
    if missing or len(unit_table) != np.shape(responses)[1]:
        raise ProbingError(f"units must have columns {list(UNIT_COLUMNS)} and one row per "
                           f"response column ({np.shape(responses)[1]}); got {len(unit_table)} rows,"
                           f" missing {missing}")
    stats = compute_unit_stats(responses, conditions, contrast, nuisance=nuisance, test=test,
                               alternative=alternative)
    families = unit_table["layer"].to_numpy() if per_layer else None
    if selection == "top":
        p_corr = np.full(len(stats), np.nan)
        selected = select_top(stats["stat"], top_percent=top_percent, alternative=alternative,
                              families=families)
    else:
        p_corr = (correct_fdr(stats["p_val"], families=families) if selection == "fdr" else
                  compute_fwe_pvalues(responses, conditions, contrast, nuisance=nuisance,
                                      alternative=alternative, n_perm=n_perm,
                                      families=families, random_state=random_state))
        selected = np.nan_to_num(p_corr, nan=1.0) < alpha
    table = pd.concat([unit_table[list(UNIT_COLUMNS)].reset_index(drop=True), stats], axis=1)
    return table.assign(p_corr=p_corr, correction=_CORRECTION[selection],
                        selected=selected.astype(bool))[list(UNITS_COLUMNS)]


def compare_selections(a, b):
    """How much two selections of the same units differ.

    Parameters
    ----------
    a, b : array-like of bool
        ``(n_units,)`` selections (e.g. on raw and on absolute responses).

    Returns
    -------
    dict
        ``n_units, n_selected_a, n_selected_b, n_both, n_changed`` (units selected by one
        and not the other) and ``dice``.

    Examples
    --------
    >>> compare_selections([True, True, False], [True, False, True])
    {'n_units': 3, 'n_selected_a': 2, 'n_selected_b': 2, 'n_both': 1, 'n_changed': 2, 'dice': 0.5}
    """
    from probing.localize.overlap import compute_dice

    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ProbingError(f"selections differ in length: {a.shape} vs {b.shape}")
    return {"n_units": int(a.size), "n_selected_a": int(a.sum()), "n_selected_b": int(b.sum()),
            "n_both": int((a & b).sum()), "n_changed": int((a ^ b).sum()),
            "dice": compute_dice(a, b)}
