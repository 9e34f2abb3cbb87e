"""From the model adapter's long table of patching runs to the arrays of the analyses.

The adapter's ``patch_pairs`` (``probing.models.patch_runs``) writes one row per pair, run
and member: ``pair_id, run, layer, site, position, head, unit, member, logprob`` where
``run`` is ``source`` or ``target`` (the plain runs; ``layer``, ``position``, ``head``,
``unit`` are -1) or
``patched`` (the target member run with one activation from the source member), and
``member`` says whose tokens the log-probability sums (``source`` or ``target``). This
module reads that table as a table (it imports nothing from the adapter) and builds the
read-out of each run: ``logprob(good member) - logprob(bad member)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.causal._checks import check_choice
from probing.causal.patching import patching_effects

__all__ = ["PAIR_EFFECT_COLUMNS", "RUN_COLUMNS", "PatchingRuns", "build_patching_runs",
           "patching_pairs", "summarize_patching"]

#: Columns of the adapter's table that are read (``unit`` may be absent: -1, whole sites).
RUN_COLUMNS = ("pair_id", "run", "layer", "site", "position", "head", "member", "logprob")
_MEMBERS = ("source", "target")


@dataclasses.dataclass(frozen=True)
class PatchingRuns:
    """Read-outs of the plain and patched runs of a patching sweep, as arrays.

    Attributes
    ----------
    source, target : numpy.ndarray of shape (n_pairs,)
        Read-out of the source member's and the target member's plain run.
    patched : numpy.ndarray of shape (n_pairs, n_layers, n_positions, n_sites) or \
(n_pairs, n_layers, n_positions, n_heads or n_units, n_sites)
        Read-out of each patched run (NaN: the pair has no such position).
    pair_ids, layers, positions, sites : list
    heads : list or None
        None when the sweep was not per head.
    units : list or None
        The fourth axis of ``patched`` when the sweep was per unit (else None).
    """

    source: np.ndarray
    target: np.ndarray
    patched: np.ndarray
    pair_ids: list
    layers: list
    positions: list
    heads: list | None
    sites: list
    units: list | None = None


def _check_table(table):
    if not isinstance(table, pd.DataFrame):
        raise ProbingError(f"build_patching_runs: expected a DataFrame, got "
                           f"{type(table).__name__}")
    missing = [c for c in RUN_COLUMNS if c not in table.columns]
    if missing:
        raise ProbingError(f"build_patching_runs: missing column(s) {missing}; required "
                           f"{list(RUN_COLUMNS)}")
    runs = set(table["run"]) - {"source", "target", "patched"}
    members = set(table["member"]) - set(_MEMBERS)
    if runs or members:
        raise ProbingError(f"build_patching_runs: run must be source, target or patched and "
                           f"member source or target; got {sorted(runs | members, key=str)}")


def _readout(table, keys, good):
    indexed = table.set_index([*keys, "member"])["logprob"]
    if indexed.index.has_duplicates:
        first = dict(zip([*keys, "member"], indexed.index[indexed.index.duplicated()][0],
                         strict=True))
        raise ProbingError(f"build_patching_runs: more than one row for {first}")
    wide = indexed.unstack("member")
    if set(wide.columns) != set(_MEMBERS):
        raise ProbingError(f"build_patching_runs: need log-probabilities of both members, "
                           f"got member(s) {sorted(wide.columns)}")
    bad = "target" if good == "source" else "source"
    return (wide[good] - wide[bad]).rename("readout").reset_index()


def build_patching_runs(table, *, good="source"):
    """Arrays of read-outs ``logprob(good) - logprob(bad)`` from the adapter's long table.

    Parameters
    ----------
    table : pandas.DataFrame
        ``pair_id, run, layer, site, position, head, member, logprob`` (one site or many).
    good : {"source", "target"}, default "source"
        Which member is the good (grammatical) one.

    Returns
    -------
    PatchingRuns

    Examples
    --------
    >>> plain = [("p", run, -1, "", -1, -1, m, v) for run, m, v in [
    ...     ("source", "source", -1.0), ("source", "target", -4.0),
    ...     ("target", "source", -5.0), ("target", "target", -2.0)]]
    >>> patched = [("p", "patched", 1, "resid_post", 0, -1, "source", -1.5),
    ...            ("p", "patched", 1, "resid_post", 0, -1, "target", -3.5)]
    >>> runs = build_patching_runs(pd.DataFrame(plain + patched, columns=RUN_COLUMNS))
    >>> runs.source, runs.target, runs.patched.shape
    (array([3.]), array([-3.]), (1, 1, 1, 1))
    """
    check_choice("build_patching_runs", "good", good, _MEMBERS)
    _check_table(table)
    plain = _readout(table[table["run"] != "patched"], ["pair_id", "run"], good)
    reads = plain.pivot(index="pair_id", columns="run", values="readout")
    if set(reads.columns) != set(_MEMBERS) or reads.isna().any().any():
        lacking = reads.index[reads.isna().any(axis=1)].tolist() if len(reads.columns) == 2 \
            else reads.index.tolist()
        raise ProbingError(f"build_patching_runs: pair(s) {lacking[:5]} lack a read-out of a "
                           f"plain run (both members' log-probabilities on the source and the "
                           f"target run are needed; members with different token counts "
                           f"have none)")
    if "unit" not in table.columns:
        table = table.assign(unit=-1)
    cells = _readout(table[table["run"] == "patched"],
                     ["pair_id", "layer", "position", "head", "unit", "site"], good)
    per_head = bool((cells["head"] != -1).any())
    per_unit = bool((cells["unit"] != -1).any())
    if per_head and per_unit:
        raise ProbingError("build_patching_runs: a sweep is per head or per unit, not both")
    fourth = ["head"] if per_head else ["unit"] if per_unit else []
    axes = ["layer", "position", *fourth, "site"]
    labels = {a: sorted(pd.unique(cells[a]).tolist()) for a in axes}
    pair_ids = reads.index.tolist()
    patched = np.full((len(pair_ids), *[len(labels[a]) for a in axes]), np.nan)
    index = [pd.Index(pair_ids).get_indexer(cells["pair_id"])]
    index += [pd.Index(labels[a]).get_indexer(cells[a]) for a in axes]
    if (index[0] < 0).any():
        raise ProbingError("build_patching_runs: patched runs of a pair without plain runs")
    patched[tuple(index)] = cells["readout"].to_numpy(float)
    return PatchingRuns(reads["source"].to_numpy(float), reads["target"].to_numpy(float),
                        patched, pair_ids, labels["layer"], labels["position"],
                        labels["head"] if per_head else None, labels["site"],
                        labels["unit"] if per_unit else None)


@renamed(clean="clean_member")
def summarize_patching(table, *, clean_member="source", good="source", groups=None, n_boot=2000,
                       ci=0.95, random_state=0):
    """:func:`~probing.causal.patching_effects` straight from the adapter's long table.

    Parameters
    ----------
    table : pandas.DataFrame
        As for :func:`build_patching_runs`.
    clean_member : {"source", "target"}, default "source"
        Which member's plain run is the clean run. The adapter patches the source into the
        target, so ``clean_member="source"`` is denoising and ``"target"`` noising.
    good : {"source", "target"}, default "source"
    groups : mapping or pandas.Series, optional
        ``item_id`` of each ``pair_id``; whole items are resampled.
    n_boot, ci, random_state
        As for :func:`~probing.causal.patching_effects`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`~probing.causal.patching_effects`.
    """
    check_choice("summarize_patching", "clean_member", clean_member, _MEMBERS)
    runs = build_patching_runs(table, good=good)
    if runs.units is not None:
        raise ProbingError("summarize_patching: the table is a per-unit sweep; read it with "
                           "build_patching_runs and mediation_effects (per-unit cells are "
                           "mediators, not patching cells)")
    clean_reads, corrupted = ((runs.source, runs.target) if clean_member == "source"
                              else (runs.target, runs.source))
    items = None
    if groups is not None:
        items = pd.Series(groups).reindex(runs.pair_ids)
        if items.isna().any():
            raise ProbingError(f"summarize_patching: groups has no item for pair(s) "
                               f"{items.index[items.isna()].tolist()[:5]}")
        items = items.to_numpy()
    return patching_effects(clean_reads, corrupted, runs.patched,
                            direction="denoising" if clean_member == "source" else "noising",
                            layers=runs.layers, positions=runs.positions, heads=runs.heads,
                            sites=runs.sites, groups=items, n_boot=n_boot, ci=ci,
                            random_state=random_state)


#: Columns of :func:`patching_pairs`.
PAIR_EFFECT_COLUMNS = ("pair_id", "direction", "layer", "site", "position", "head", "clean",
                       "corrupted", "patched", "estimate", "restored")


def patching_pairs(table, *, clean="source", good="source"):
    """One row per pair and patched cell: what ``patching_effects`` averages, per pair.

    ``clean``, ``corrupted`` and ``patched`` are the read-outs (good minus bad) of the
    pair's clean, corrupted and patched runs; ``effect = patched - base`` (``base`` the
    run that was patched: corrupted when denoising, clean when noising) and ``restored =
    (patched - corrupted) / (clean - corrupted)`` (NaN when clean equals corrupted). It
    shows which pairs carry a cell's mean.

    Examples
    --------
    >>> runs = ["source", "source", "target", "target", "patched", "patched"]
    >>> table = pd.DataFrame({"pair_id": "p", "run": runs, "layer": [-1] * 4 + [1, 1],
    ...                       "site": [""] * 4 + ["mlp_out"] * 2,
    ...                       "position": [-1] * 4 + [0, 0], "head": -1,
    ...                       "member": ["source", "target"] * 3,
    ...                       "logprob": [-1.0, -4.0, -5.0, -2.0, -1.5, -3.5]})
    >>> rows = patching_pairs(table)
    >>> rows[["clean", "corrupted", "patched", "estimate", "restored"]].to_numpy().tolist()
    [[3.0, -3.0, 2.0, 5.0, 0.8333333333333334]]
    """
    check_choice("patching_pairs", "clean", clean, _MEMBERS)
    _check_table(table)
    plain = _readout(table[table["run"] != "patched"], ["pair_id", "run"], good)
    reads = plain.pivot(index="pair_id", columns="run", values="readout")
    clean_reads = reads["source" if clean == "source" else "target"]
    corrupted = reads["target" if clean == "source" else "source"]
    cells = _readout(table[table["run"] == "patched"],
                     ["pair_id", "layer", "site", "position", "head"], good)
    cells = cells.rename(columns={"readout": "patched"})
    cells["clean"] = cells["pair_id"].map(clean_reads)
    cells["corrupted"] = cells["pair_id"].map(corrupted)
    base = cells["corrupted"] if clean == "source" else cells["clean"]
    gap = (cells["clean"] - cells["corrupted"]).replace(0.0, np.nan)
    cells = cells.assign(direction="denoising" if clean == "source" else "noising",
                         estimate=cells["patched"] - base,
                         restored=(cells["patched"] - cells["corrupted"]) / gap)
    return cells[list(PAIR_EFFECT_COLUMNS)]
