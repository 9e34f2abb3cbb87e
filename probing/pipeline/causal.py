"""``probing patch`` and ``probing mediate``: activation patching and causal mediation on a
minimal-pair paradigm, written to a run folder in one piece.

Both read, on every run, ``logprob(good member) - logprob(other member)``: with
``readout="sentence"`` summed over the sentence (tokens the members share cancel within a
run, so the read-out is the preference for the good member's differing words; it needs
members whose words split alike), with ``readout="logit_diff"`` the logit difference of
the two answer tokens at the position that predicts them. Members are aligned through
their words and each region is located in each member on its own
(:mod:`probing.pipeline.causal_pairs`); pairs that cannot be are excluded, counted in the
manifest and listed with a reason in ``excluded_pairs.csv``. Inputs are checked
(:mod:`probing.pipeline.causal_inputs`) before the model loads; layer ranges as soon as
its shape is known, before any forward pass.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_frame
from probing._core.vocabulary import add_identity
from probing.pipeline._loading import resolve_model
from probing.pipeline.causal_inputs import (
    CausalOptions,
    build_pairs,
    load_stimuli,
    resolve_layers,
    shape_before_loading,
)
from probing.pipeline.causal_pairs import require_contrast, screen_pairs
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder

__all__ = ["run_mediate", "run_patch"]

#: Intervals from fewer items than this come with a warning (and ``n_items`` is written).
MIN_ITEMS = 20


@dataclasses.dataclass(frozen=True)
class _Prepared:
    spec: object
    stimuli: object
    pairs: pd.DataFrame
    where: pd.DataFrame | None
    excluded: pd.DataFrame
    spans: dict
    lm: object
    layers: list
    site: str
    info: dict


def _prepare(paradigm_path, lm, out, options, force, command):
    """Everything checked, then the model, then the pairs aligned word by word."""
    from probing.models.sites import model_shape


    check_run_folder(out, force=force)
    spec, stimuli = load_stimuli(paradigm_path, options, command=command)
    pairs = build_pairs(stimuli, contrast=options.contrast, name=spec.name)
    site = "head_out" if command == "mediate" and options.mediators == "heads" else options.site
    if options.positions == "regions" and stimuli.regions is None:
        raise ProbingError(f"{paradigm_path}: has no regions; use --positions tokens")
    _check_region(paradigm_path, stimuli, options.region)
    require_contrast(pairs, stimuli, options, f"{paradigm_path}")
    early = shape_before_loading(lm)
    if early is not None:  # --layers 99 fails here, before the weights load
        resolve_layers(options.layers, early.layer_range(site))
    lm = resolve_model(lm)
    shape = model_shape(lm)
    layers = resolve_layers(options.layers, shape.layer_range(site))
    screened = screen_pairs(lm, pairs, stimuli, options)
    info = {"n_pairs": len(screened.pairs), "n_pairs_excluded": len(screened.excluded),
            "n_items": int(screened.pairs["item_id"].nunique()), "readout": options.readout,
            "layers": layers, "site": site, "contrast": options.contrast}
    if info["n_items"] < MIN_ITEMS:
        warnings.warn(f"{info['n_items']} items: intervals from fewer than {MIN_ITEMS} items "
                      f"are unreliable", stacklevel=3)
    return _Prepared(spec, stimuli, screened.pairs, screened.where, screened.excluded,
                     screened.spans, lm, layers, site, info)


def _check_region(paradigm_path, stimuli, region):
    if region is None:
        return
    names = [*pd.unique(stimuli.regions["region"]), "answer"]
    if region not in names:
        raise ProbingError(f"{paradigm_path}: --region {region!r} is no region of it; allowed "
                           f"{', '.join(map(str, names))}")


def _where(where, options, member):
    """``pair_id, position, label`` of the swept positions in ``member`` (None: tokens)."""
    if where is None:
        return None
    if options.region is not None:
        where = where[where["label"].str.split(":", n=1).str[1] == options.region]
    return pd.DataFrame({"pair_id": where["pair_id"], "position": where[f"{member}_position"],
                         "label": where["label"]}).reset_index(drop=True)


def _relabel(table, where):
    """Patched rows at region positions, labelled ``<n>:<region>`` (or token indices)."""
    if where is None:
        return table
    patched = table[table["run"] == "patched"].merge(where, on=["pair_id", "position"])
    patched = patched.assign(position=patched["label"]).drop(columns="label")
    return pd.concat([table[table["run"] != "patched"], patched], ignore_index=True)


def _position_order(table):
    def key(values):  # the answer position of region n sorts before the region's own
        return values.map(lambda v: int(str(v).split(":")[0]) - 0.5 * str(v).endswith(
            ":answer") if ":" in str(v) else int(v))
    return table.sort_values(["position"], key=key, kind="stable").sort_values(
        [c for c in ("direction", "site", "layer") if c in table], kind="stable",
        ignore_index=True)


def _swap(pairs):
    return pairs.rename(columns={"source": "target", "target": "source",
                                 "source_id": "target_id", "target_id": "source_id"})


def _sweep(lm, pairs, where, *, layers, site, per_head, options, units=None):
    """One patching sweep, only at the positions of ``where``, relabelled by region."""
    from probing.models import patch_pairs

    positions = None if where is None else {  # a position under two labels runs once
        pid: sorted(set(group["position"])) for pid, group in where.groupby("pair_id",
                                                                          sort=False)}
    table = patch_pairs(lm, pairs[["pair_id", "source", "target"]], layers=layers, site=site,
                        per_head=per_head, units=units, positions=positions,
                        readout=options.readout, batch_size=options.batch_size)
    return _relabel(table, where)


def run_patch(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Patch every layer x position (x head) from one member of each pair into the other.

    Parameters
    ----------
    paradigm_path : str or path-like
        A ``minimal_pairs`` paradigm.
    lm : probing.models.LanguageModel or callable
        A loaded causal LM, or a zero-argument loader called after the inputs are checked.
    out : str or path-like
        Run folder to create.
    options : CausalOptions, optional
        ``layers, site, per_head, direction, contrast, positions, limit, n_boot,
        random_state``.
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``pairs`` (the pairs patched) and ``patching`` (the columns of
        :data:`probing.causal.PATCHING_COLUMNS`, then ``model, paradigm``).
    """
    from probing.causal import patching_pairs, summarize_patching

    options = options or CausalOptions()
    started = now()
    prep = _prepare(paradigm_path, lm, out, options, force, "patch")
    pairs, lm = prep.pairs, prep.lm
    directions = ["denoising", "noising"] if options.direction == "both" else [options.direction]
    groups = pairs.set_index("pair_id")["item_id"]
    frames, per_pair = [], []
    for direction in directions:
        run_pairs = pairs if direction == "denoising" else _swap(pairs)
        where = _where(prep.where, options,
                       "target" if direction == "denoising" else "source")
        table = _sweep(lm, run_pairs, where, layers=prep.layers, site=prep.site,
                       per_head=options.per_head, options=options)
        member = "source" if direction == "denoising" else "target"  # the good one
        frames.append(summarize_patching(table, clean=member, good=member, groups=groups,
                                         n_boot=options.n_boot,
                                         random_state=options.random_state))
        per_pair.append(patching_pairs(table, clean=member, good=member))
    patching = _position_order(pd.concat(frames, ignore_index=True))
    items = pd.concat(per_pair, ignore_index=True)
    items.insert(1, "item_id", items["pair_id"].map(groups))
    tables = {"patch_pairs": pairs[["pair_id", "item_id", "phenomenon", "source", "target"]],
              "patching": patching.assign(n_items=prep.info["n_items"]),
              "patching_pairs": _position_order(items),
              "excluded_pairs": prep.excluded}
    tables = {k: add_identity(v, model=lm.name, paradigm=prep.spec.name)
              for k, v in tables.items()}
    manifest = _manifest(paradigm_path, prep.spec, options, lm, started, argv, prep.info)
    _write(out, tables, manifest, _patching_figures(tables["patching"], options.per_head))
    return tables


def _manifest(paradigm_path, spec, options, lm, started, argv, info):
    manifest = build_manifest(paradigm_path=paradigm_path,
                              seed=spec.seed if options.seed is None else options.seed,
                              options=dataclasses.asdict(options),
                              model_provenance=lm.provenance, started=started, argv=argv)
    manifest["notes"] = info
    return manifest


def _patching_figures(table, per_head):
    from probing.causal import plot_patching

    figures = {}
    for (direction, site), sub in table.groupby(["direction", "site"], sort=False):
        if per_head:  # one position: the one with the largest effect
            rows = sub[sub["metric"] == "restored_fraction"]
            best = rows.loc[rows["effect"].abs().idxmax(), "position"]
            ax = plot_patching(sub[sub["position"] == best], columns="head")
            ax.set_title(f"{direction}, {site}, position {best}")
        else:
            ax = plot_patching(sub)
            ax.set_title(f"{direction}, {site}")
        figures[f"patching_{direction}_{site}.png"] = ax.figure
    return figures


def _write(out, tables, manifest, figures):
    import matplotlib.pyplot as plt

    with atomic_folder(out) as tmp:
        for name, frame in tables.items():
            write_frame(frame, tmp / f"{name}.csv", ".csv")
        for name, figure in figures.items():
            figure.savefig(tmp / name, dpi=120, bbox_inches="tight")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    plt.close("all")


def run_mediate(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Causal mediation by heads, layers or units between the two members of each pair.

    ``x`` is a pair's source member, ``x'`` its target; the read-out ``y`` prefers
    ``x``'s words. ``y(x, z(x'))`` patches mediator ``z`` (a head, a layer's whole
    site, or one unit of a site, at one position) from ``x'`` into ``x``, ``y(x',
    z(x))`` the other way; the top-k mediators by natural indirect effect are then set
    from ``x'`` together.

    Parameters
    ----------
    paradigm_path, lm, out, force, argv
        As for :func:`run_patch`.
    options : CausalOptions, optional
        ``mediators`` (``heads``: each head of ``head_out``; ``layers``: the whole vector
        of ``site``; ``units``: each unit of ``site``, Vig et al.'s neurons), ``top_k``,
        ``layers``, ``positions``, ``region``, ``contrast``, ``limit``, ``n_boot``,
        ``random_state``.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``mediation`` (``layer, site, position, head, unit``, ``metric, effect, ci_low,
        ci_high, n``), ``mediation_items`` (per pair, top-k mediators), ``mediation_joint``
        (``k`` and the joint effect of the top-k set) and, with heads or units,
        ``top_units`` (the top heads' units at ``head_out``, or the top units: an input of
        ``probing ablate``).

    Examples
    --------
    >>> from probing.pipeline.causal_inputs import CausalOptions
    >>> options = CausalOptions(mediators="units", site="mlp_out", layers="12",
    ...                         region="noun", contrast="subject_number", top_k=10)
    >>> tables = run_mediate("paradigms/agreement_pp_attractor.yaml", "smollm2-135m",
    ...                      "runs/units", options=options)  # doctest: +SKIP
    """
    from probing.models.sites import model_shape
    from probing.pipeline.mediate import mediate_tables

    options = options or CausalOptions()
    started = now()
    prep = _prepare(paradigm_path, lm, out, options, force, "mediate")
    pairs, lm, site = prep.pairs, prep.lm, prep.site
    per_head = options.mediators == "heads"
    units = None
    if options.mediators == "units":
        units = range(model_shape(lm).width(site))
    sweep = {"layers": prep.layers, "site": site, "per_head": per_head, "options": options,
             "units": units}
    # NIE: mediators of x (the source) take x''s values: x' patched into x
    x_where = _where(prep.where, options, "source")
    nie = _sweep(lm, _swap(pairs), x_where, **sweep)
    nde = _sweep(lm, pairs, _where(prep.where, options, "target"), **sweep)
    tables, figure = mediate_tables(lm, pairs, nie, nde, where=x_where, site=site,
                                    options=options)
    tables["excluded_pairs"] = prep.excluded
    split = tables["mediation_split"].drop_duplicates("item_id")["split"].value_counts()
    info = {**prep.info, "n_items_selection": int(split.get("selection", 0)),
            "n_items_test": int(split.get("test", 0)),
            "selection_and_test_overlap": bool(split.get("both", 0))}
    tables = {k: add_identity(v, model=lm.name, paradigm=prep.spec.name)
              for k, v in tables.items()}
    manifest = _manifest(paradigm_path, prep.spec, options, lm, started, argv, info)
    _write(out, tables, manifest, {"mediation.png": figure})
    return tables
