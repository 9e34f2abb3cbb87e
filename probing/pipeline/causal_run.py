"""The engine of ``probing patch`` and ``probing mediate`` (declared in
:mod:`probing.pipeline.commands.patch` and :mod:`~probing.pipeline.commands.mediate`):
activation patching and causal mediation on a minimal-pair paradigm.

Both read, on every run, ``logprob(good member) - logprob(other member)``: with
``readout="sentence"`` summed over the sentence (tokens the members share cancel within a
run, so the read-out is the preference for the good member's differing words; it needs
members whose words split alike), with ``readout="logit_diff"`` the logit difference of
the two answer tokens at the position that predicts them. Members are aligned through
their words and each region is located in each member on its own
(:mod:`probing.pipeline.causal_pairs`); pairs that cannot be are excluded, counted in the
manifest and listed with a reason in ``excluded_pairs.csv``. Inputs are checked
(:func:`prepare_pairs`) before the model loads; layer ranges as soon as its shape is
known (:func:`check_pair_layers`), before the weights load.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.layers import resolve_layers
from probing.commands import Result
from probing.pipeline.causal_inputs import build_pairs, identified
from probing.pipeline.causal_pairs import require_contrast, screen_pairs

__all__ = ["PairPlan", "check_dialogue_template", "check_pair_layers", "layers_on",
           "mediate_result", "member_where", "patch_result", "prepare_pairs", "screen",
           "swap_members"]

#: Intervals from fewer items than this come with a warning (and ``n_items`` is written).
MIN_ITEMS = 20


@dataclasses.dataclass(frozen=True)
class PairPlan:
    """The checked input of a patching or mediation run: the pairs, before any model."""

    paradigm: object
    pairs: pd.DataFrame
    site: str
    options: object


@dataclasses.dataclass(frozen=True)
class _Screened:
    pairs: pd.DataFrame
    where: pd.DataFrame | None
    excluded: pd.DataFrame
    layers: list
    info: dict


def prepare_pairs(paradigm, options, *, site):
    """Every check of a patching or mediation run that needs no model; the pairs.

    Parameters
    ----------
    paradigm : probing.commands.Paradigm
        A ``minimal_pairs`` paradigm.
    options : PatchOptions or MediateOptions
    site : str or None
        The site patched (None: the command's components say where, as path patching's).

    Returns
    -------
    PairPlan
    """
    stimuli = paradigm.stimuli
    if stimuli.kind == "dialogue" and options.contrast is None:
        factors = ", ".join(stimuli.factors or []) or "none (the paradigm has no factor)"
        raise ProbingError(f"{paradigm.path}: a dialogue paradigm has no good and bad members: "
                           f"give --contrast FACTOR to pair its dialogues; allowed: {factors}")
    pairs = build_pairs(stimuli, contrast=options.contrast, name=paradigm.name)
    if options.positions == "regions" and stimuli.regions is None:
        raise ProbingError(f"{paradigm.path}: has no regions; use --positions tokens")
    _check_region(paradigm.path, stimuli, options.region)
    require_contrast(pairs, stimuli, options, f"{paradigm.path}")
    return PairPlan(paradigm, pairs, site, options)


def layers_on(shape, spec, site):
    """The layers of ``spec`` that ``site`` has on a model of ``shape``, ascending."""
    allowed = shape.layer_range(site)
    return sorted(resolve_layers(spec, allowed.stop - 1, lowest=allowed.start,
                                 where=f" for site {site!r}"))


def check_pair_layers(plan, shape):
    """``--layers`` against the model's shape (its configuration, before the weights)."""
    layers_on(shape, plan.options.layers, plan.site)


def screen(plan, lm):
    """The layers, and the pairs aligned word by word (the tokenizer is needed)."""
    from probing.models.sites import model_shape

    options = plan.options
    layers = [] if plan.site is None else layers_on(model_shape(lm), options.layers, plan.site)
    stimuli, pairs = plan.paradigm.stimuli, plan.pairs
    if stimuli.kind == "dialogue":  # the members as the model's chat template writes them
        from probing.models.chat import render_for_model

        stimuli = render_for_model(stimuli, lm)
        pairs = build_pairs(stimuli, contrast=options.contrast, name=plan.paradigm.name)
    screened = screen_pairs(lm, pairs, stimuli, options)
    info = {"n_pairs": len(screened.pairs), "n_pairs_excluded": len(screened.excluded),
            "n_items": int(screened.pairs["item_id"].nunique()), "readout": options.readout,
            "layers": layers, "site": plan.site, "contrast": options.contrast}
    if "rendering" in stimuli.info:
        info["rendering"] = stimuli.info["rendering"]
    if info["n_items"] < MIN_ITEMS:
        warnings.warn(f"{info['n_items']} items: intervals from fewer than {MIN_ITEMS} items "
                      f"are unreliable", stacklevel=3)
    return _Screened(screened.pairs, screened.where, screened.excluded, layers, info)


def check_dialogue_template(plan, model_name):
    """A dialogue paradigm is rendered once with the model's tokenizer, before loading."""
    if plan.paradigm.kind == "dialogue":
        from probing.models import load_tokenizer
        from probing.models.chat import render_chat

        render_chat(plan.paradigm.stimuli, load_tokenizer(model_name))


def _senders(stimuli):
    """The chat roles and agents of a dialogue paradigm's messages (empty otherwise)."""
    if stimuli.kind != "dialogue" or stimuli.messages is None:
        return []
    messages = stimuli.messages
    agents = messages["agent"].dropna() if "agent" in messages else []
    return [str(x) for x in pd.unique(pd.concat([messages["chat_role"], pd.Series(agents,
                                                                                   dtype=object)]))
            if str(x)]


def _check_region(paradigm_path, stimuli, region):
    if region is None:
        return
    names = [*pd.unique(stimuli.regions["region"]), "answer", *_senders(stimuli)]
    if region not in names:
        raise ProbingError(f"{paradigm_path}: --region {region!r} is no region of it; allowed "
                           f"{', '.join(map(str, names))}")


def member_where(where, options, member):
    """``pair_id, position, label`` of the swept positions in ``member`` (None: tokens)."""
    if where is None:
        return None
    if options.region is not None:
        where = _region_rows(where, options.region)
    return pd.DataFrame({"pair_id": where["pair_id"], "position": where[f"{member}_position"],
                         "label": where["label"]}).reset_index(drop=True)


def _region_rows(where, region):
    """The rows of one region; a sender's name (``user``, ``alice``) is its last message,
    the region ``<sender>_<k>`` with the largest ``k`` in each pair."""
    names = where["label"].str.split(":", n=1).str[1]
    exact = where[names == region]
    if len(exact):
        return exact
    number = names.str.extract(rf"^{re.escape(region)}_(\d+)$")[0].astype(float)
    found = where.assign(_k=number)[number.notna()]
    last = found.groupby("pair_id", sort=False)["_k"].transform("max")
    return found[found["_k"] == last].drop(columns="_k")


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


def swap_members(pairs):
    """The pairs with source and target exchanged (a noising run's)."""
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


def patch_result(plan, lm):
    """Patch every layer x position (x head) from one member of each pair into the other.

    Returns
    -------
    probing.commands.Result
        ``patch_pairs`` (the pairs patched), ``patching`` (the columns of
        :data:`probing.causal.PATCHING_COLUMNS`), ``patching_pairs`` (per pair) and
        ``excluded_pairs``, each ending with ``model, paradigm``; a heatmap per direction.
    """
    from probing.causal import patching_pairs, summarize_patching

    options = plan.options
    prep = screen(plan, lm)
    pairs = prep.pairs
    directions = ["denoising", "noising"] if options.direction == "both" else [options.direction]
    groups = pairs.set_index("pair_id")["item_id"]
    frames, per_pair = [], []
    for direction in directions:
        run_pairs = pairs if direction == "denoising" else swap_members(pairs)
        where = member_where(prep.where, options,
                       "target" if direction == "denoising" else "source")
        table = _sweep(lm, run_pairs, where, layers=prep.layers, site=plan.site,
                       per_head=options.per_head, options=options)
        member = "source" if direction == "denoising" else "target"  # the good one
        frames.append(summarize_patching(table, clean_member=member, good=member, groups=groups,
                                         n_boot=options.n_boot,
                                         random_state=options.random_state))
        per_pair.append(patching_pairs(table, clean=member, good=member))
    patching = _position_order(pd.concat(frames, ignore_index=True))
    items = pd.concat(per_pair, ignore_index=True)
    items.insert(1, "item_id", items["pair_id"].map(groups))
    corrected = _corrected(items, options)
    tables = {"patch_pairs": pairs[["pair_id", "item_id", "phenomenon", "source", "target"]],
              "patching": patching.assign(n_items=prep.info["n_items"]),
              "patching_pairs": _position_order(items),
              "patching_corrected": _position_order(corrected),
              "excluded_pairs": prep.excluded}
    tables = identified(tables, model=lm.name, paradigm=plan.paradigm.name)
    return Result(tables, _patching_figures(tables["patching"], options.per_head),
                  {"notes": prep.info})


def _corrected(items, options):
    """Every cell corrected across the whole grid (one family: a cell "significant" by its
    own interval may be chance); empty below 2 items, where no test is possible."""
    from probing._core.vocabulary import table_columns
    from probing.causal import sweep_correction

    if items["item_id"].nunique() < 2:
        return pd.DataFrame(columns=table_columns("patching_corrected"))
    return sweep_correction(items, group_column="item_id", correction=options.correction,
                            random_state=options.random_state)


def _patching_figures(table, per_head):
    from probing.causal import plot_patching

    figures = {}
    for (direction, site), sub in table.groupby(["direction", "site"], sort=False):
        if per_head:  # one position: the one with the largest effect
            rows = sub[sub["metric"] == "restored_fraction"]
            best = rows.loc[rows["estimate"].abs().idxmax(), "position"]
            ax = plot_patching(sub[sub["position"] == best], columns="head")
            ax.set_title(f"{direction}, {site}, position {best}")
        else:
            ax = plot_patching(sub)
            ax.set_title(f"{direction}, {site}")
        figures[f"patching_{direction}_{site}"] = ax.figure
    return figures


def mediate_result(plan, lm):
    """Causal mediation by heads, layers or units between the two members of each pair.

    ``x`` is a pair's source member, ``x'`` its target; the read-out ``y`` prefers
    ``x``'s words. ``y(x, z(x'))`` patches mediator ``z`` (a head, a layer's whole
    site, or one unit of a site, at one position) from ``x'`` into ``x``, ``y(x',
    z(x))`` the other way; the top-k mediators by natural indirect effect are then set
    from ``x'`` together.

    Returns
    -------
    probing.commands.Result
        ``mediation`` (``layer, site, position, head, unit``, ``metric, effect, ci_low,
        ci_high, n``), ``mediation_items`` (per pair, top-k mediators), ``mediation_joint``
        (``k`` and the joint effect of the top-k set), ``top_mediators``,
        ``mediation_split``, ``excluded_pairs`` and, with heads or units, ``top_units``
        (the top heads' units at ``head_out``, or the top units: an input of
        ``probing ablate``); the ``mediation`` figure.
    """
    from probing.models.sites import model_shape
    from probing.pipeline.mediate_run import mediate_tables

    options, site = plan.options, plan.site
    prep = screen(plan, lm)
    pairs = prep.pairs
    per_head = options.mediators == "heads"
    units = None
    if options.mediators == "units":
        units = range(model_shape(lm).width(site))
    sweep = {"layers": prep.layers, "site": site, "per_head": per_head, "options": options,
             "units": units}
    # NIE: mediators of x (the source) take x''s values: x' patched into x
    x_where = member_where(prep.where, options, "source")
    nie = _sweep(lm, swap_members(pairs), x_where, **sweep)
    nde = _sweep(lm, pairs, member_where(prep.where, options, "target"), **sweep)
    tables, figure = mediate_tables(lm, pairs, nie, nde, where=x_where, site=site,
                                    options=options)
    tables["excluded_pairs"] = prep.excluded
    split = tables["mediation_split"].drop_duplicates("item_id")["split"].value_counts()
    info = {**prep.info, "n_items_selection": int(split.get("selection", 0)),
            "n_items_test": int(split.get("test", 0)),
            "selection_and_test_overlap": bool(split.get("both", 0))}
    tables = identified(tables, model=lm.name, paradigm=plan.paradigm.name)
    return Result(tables, {"mediation": figure}, {"notes": info})
