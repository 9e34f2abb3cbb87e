"""The engine of ``probing ablate`` (declared in :mod:`probing.pipeline.commands.ablate`):
a unit set's effect on a paradigm's behaviour, against random sets.

The units of a table (a localizer's ``units.csv``, a probe's top units, ``probing
mediate``'s ``top_units.csv``) are ablated at every position of every stimulus, and the
paradigm's behaviour is measured on the plain run, with the given set ablated and with
each of ``n_sets`` random sets matched in size per (layer, site)
(:func:`probing.causal.sample_matched_units`, drawn from all units of those layers and
sites). Measures per item: minimal pairs, ``logprob_diff`` (good minus bad, summed
log-probabilities) and ``accuracy`` (1 when it is > 0); factorial designs, ``accuracy``
of each prediction. ``ablation="mean"`` sets each unit to its mean over every token of
the paradigm's own stimuli (the plain run), so the reference set is the stimuli tested;
``ablation="resample"`` sets it, at every position of a stimulus, to its value at one
token of another of the paradigm's stimuli (stimulus and token drawn with
``random_state``, the same draws for the given and every random set).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.commands import Result
from probing.pipeline.causal_inputs import check_units_on_model, identified, load_unit_table

__all__ = ["AblatePlan", "ablate_result", "check_ablation_units", "held_out_items",
           "prepare_ablation"]


@dataclasses.dataclass(frozen=True)
class AblatePlan:
    """A checked ablation: the paradigm, its (limited) stimuli, the unit table, options."""

    paradigm: object
    stimuli: object
    units: pd.DataFrame
    options: object
    held_out: dict | None = None


def prepare_ablation(paradigm, options):
    """The unit table read and checked, the stimuli limited; no model."""
    if options.units is None:
        raise ProbingError("--units: required (a unit table file)")
    given = load_unit_table(options.units)
    stimuli, held_out = held_out_items(paradigm, options.units)
    return AblatePlan(paradigm, _limit(stimuli, options.limit), given, options, held_out)


def held_out_items(paradigm, units):
    """The paradigm's stimuli minus the items that selected ``units``, and a record of it.

    A ``probing mediate`` run folder with ``--split`` writes ``mediation_split.csv`` beside
    its ``top_units.csv``: the items the top-k was ranked on (``selection``, or ``both``
    when ``--split 1`` selected and tested on every item). Ablating that set on those items
    again would test the selection on the data that made it, so when the unit table
    comes from this paradigm (its ``paradigm`` column) only the ``test`` items are kept.
    Returns ``(stimuli, record)``; ``record`` is None when no split table applies.
    """
    folder = Path(units).parent
    split_path = folder / "mediation_split.csv"
    if not split_path.is_file():
        return paradigm.stimuli, None
    table = pd.read_csv(Path(units))
    if "paradigm" in table.columns and set(table["paradigm"].astype(str)) != {paradigm.name}:
        return paradigm.stimuli, None  # selected on another paradigm: nothing shared
    split = pd.read_csv(split_path)
    if not {"item_id", "split"} <= set(split.columns):
        raise ProbingError(f"{split_path}: needs the columns item_id and split")
    used = set(split.loc[split["split"] != "test", "item_id"].astype(str))
    items = paradigm.stimuli.table["item_id"]
    keep = pd.unique(items[~items.astype(str).isin(used)])
    if not len(keep):
        raise ProbingError(f"--units {units}: every item of {paradigm.name} selected these "
                           f"units ({split_path}); ablate them on other items (mediate with "
                           f"--split below 1)")
    record = {"split_table": str(split_path), "n_items_dropped":
              int(pd.unique(items).size - len(keep)), "n_items_held_out": int(len(keep))}
    return _subset(paradigm.stimuli, keep), record


def check_ablation_units(plan, shape):
    """Layers and units of the table against the model's shape (its configuration)."""
    check_units_on_model(plan.units, shape, plan.options.units)



def _limit(stimuli, limit):
    if not limit:
        return stimuli
    return _subset(stimuli, pd.unique(stimuli.table["item_id"])[:limit])


def _subset(stimuli, items):
    table = stimuli.table[stimuli.table["item_id"].isin(items)].reset_index(drop=True)
    regions = stimuli.regions
    if regions is not None:
        regions = regions[regions["stimulus_id"].isin(table["stimulus_id"])]
    return dataclasses.replace(stimuli, table=table, regions=regions)


def _measures(stimuli, tokens):
    """Per item: ``phenomenon, item_id, metric, value`` rows as arrays by metric."""
    from probing.behaviour import (
        build_region_surprisal,
        build_sentence_scores,
        evaluate_predictions,
    )

    table = stimuli.table
    if stimuli.kind == "minimal_pairs":
        scores = build_sentence_scores(tokens).set_index("stimulus_id")["logprob_sum"]
        keep = table[~table.get("identical", pd.Series(False, index=table.index)).astype(bool)]
        good = keep[keep["role"] == "good"].set_index("pair_id")
        bad = keep[keep["role"] == "bad"].set_index("pair_id").loc[good.index]
        diff = (scores.loc[good["stimulus_id"]].to_numpy()
                - scores.loc[bad["stimulus_id"]].to_numpy())
        meta = pd.DataFrame({"phenomenon": good["phenomenon"].to_numpy(),
                             "item_id": good["item_id"].to_numpy()})
        return meta, {"logprob_diff": diff, "accuracy": (diff > 0).astype(float)}
    regions = build_region_surprisal(tokens, stimuli.regions,
                                     reduction=stimuli.info.get("metric", "sum"))
    evaluated = evaluate_predictions(regions, list(stimuli.predictions), table)
    meta = pd.DataFrame({"phenomenon": evaluated["prediction"].to_numpy(),
                         "item_id": evaluated["item_id"].to_numpy()})
    return meta, {"accuracy": evaluated["correct"].to_numpy(float)}


def _score(lm, stimuli, interventions, options):
    from probing.models import score_tokens

    tokens = score_tokens(lm, stimuli.table[["stimulus_id", "text"]],
                          batch_size=options.batch_size, interventions=interventions or None)
    return _measures(stimuli, tokens)


def _reference(lm, stimuli, units, options):
    """What ``mean`` and ``resample`` set units to, per (site, layer) of ``units``.

    ``mean``: the unit's mean over every token of the stimuli (start token excluded), one
    vector. ``resample``: per stimulus, the vector at one token of another stimulus (the
    other stimulus and the token drawn with ``random_state``), shape ``(n_stimuli,
    width)``.
    """
    from probing.models import encode_texts
    from probing.models.intervention_hooks import record_points

    points = sorted({(s, int(layer)) for s, layer in zip(units["site"], units["layer"],
                                                        strict=True)})
    encoded = encode_texts(lm.tokenizer, stimuli.table["text"].tolist())
    recorded = record_points(lm, encoded, points, batch_size=options.batch_size)
    if options.ablation == "mean":
        return {p: np.concatenate([v[1:].double().numpy() for v in recorded[p]]).mean(axis=0)
                for p in points}
    drawn = resample_draws([len(v) - 1 for v in recorded[points[0]]], options.random_state)
    return {p: np.stack([recorded[p][j][1 + t].double().numpy() for j, t in drawn])
            for p in points}


def resample_draws(n_tokens, random_state):
    """Per stimulus ``i``, ``(j, t)``: another stimulus ``j != i`` and one of its tokens.

    Examples
    --------
    >>> draws = resample_draws([3, 5, 2], 0)
    >>> all(j != i and 0 <= t < [3, 5, 2][j] for i, (j, t) in enumerate(draws))
    True
    """
    n = len(n_tokens)
    if n < 2:
        raise ProbingError("--ablation resample: needs at least 2 stimuli to draw from")
    rng = np.random.default_rng(random_state)
    others = (np.arange(n) + rng.integers(1, n, size=n)) % n  # never the stimulus itself
    return [(int(j), int(rng.integers(n_tokens[j]))) for j in others]


def _interventions(units, ablation, reference, head_dim):
    """The interventions of a unit set: one list for every stimulus (``zero``, ``mean``),
    or one list per stimulus (``resample``: each stimulus its own drawn values)."""
    if ablation != "resample":
        return _set_interventions(units, ablation, reference, head_dim)
    n = len(next(iter(reference.values())))
    return [_set_interventions(units, "mean", {p: v[i] for p, v in reference.items()},
                               head_dim) for i in range(n)]


def _set_interventions(units, op, values_of, head_dim):
    """One intervention per (site, layer); at ``head_out`` one per head.

    A ``head_out`` unit ``u`` of a unit table (``mediate``'s ``top_units.csv``, the
    sampled sets) counts across heads; an intervention names the head (``u // head_dim``)
    and the unit within it (``u % head_dim``).
    """
    from probing.interventions import Intervention

    out = []
    for (site, layer), group in units.groupby(["site", "layer"], sort=True):
        flat = np.array(sorted(int(u) for u in group["unit"]))
        heads = flat // head_dim if site == "head_out" else np.full(len(flat), -1)
        for head in np.unique(heads):
            chosen = flat[heads == head]
            values = None if op == "zero" else tuple(values_of[(site, int(layer))][chosen])
            within = chosen - head * head_dim if head >= 0 else chosen
            out.append(Intervention(layer=int(layer), site=site,
                                    units=tuple(int(u) for u in within), op=op, values=values,
                                    heads=(int(head),) if head >= 0 else None))
    return out


def _whole_heads(units, head_dim):
    """``{layer: heads}`` when every unit of ``units`` is a ``head_out`` unit of a whole
    head (all ``head_dim`` of its units), else None."""
    if not (units["site"] == "head_out").all():
        return None
    heads = units.assign(head=units["unit"] // head_dim)
    sizes = heads.groupby(["layer", "head"]).size()
    if not (sizes == head_dim).all():
        return None
    return {int(layer): sorted(int(h) for h in group["head"].unique())
            for layer, group in heads.groupby("layer")}


def _random_sets(given, shape, options, sample_matched_units):
    """The null's random sets: whole random heads of the same layers when the set is
    whole heads (a head is compared with heads, not with scattered units), else units
    matched per (layer, site)."""
    heads = _whole_heads(given, shape.head_dim)
    if heads is None:
        return sample_matched_units(_pool(given, shape), given, n_sets=options.n_sets,
                                    random_state=options.random_state)
    rng = np.random.default_rng(options.random_state)
    rows = []
    for s in range(options.n_sets):
        for layer, chosen in sorted(heads.items()):
            for head in rng.permutation(shape.n_heads)[:len(chosen)]:
                rows += [(s, layer, "head_out", int(head) * shape.head_dim + u)
                         for u in range(shape.head_dim)]
    return pd.DataFrame(rows, columns=["set", "layer", "site", "unit"])


def _pool(units, shape):
    frames = []
    for (site, layer), _ in units.groupby(["site", "layer"], sort=True):
        width = shape.width(site)
        frames.append(pd.DataFrame({"layer": int(layer), "site": site, "unit": np.arange(width)}))
    return pd.concat(frames, ignore_index=True)


def ablate_result(plan, lm):
    """Ablate the given units and matched random sets; the plain run for reference.

    Returns
    -------
    probing.commands.Result
        ``ablation`` (per phenomenon and metric, the ``given`` and ``random`` rows of
        :func:`probing.causal.ablation_test`), ``ablation_behaviour`` (mean measure of the
        plain run, the given set and the random sets), ``ablation_null`` (each random
        set's effect), ``units`` (the set ablated) and ``random_sets`` (``set, layer,
        site, unit``: the random sets of the null; whole random heads of the same layers
        when the set ablated is whole heads of ``head_out``); the ``ablation`` figure.
    """
    from probing.causal import ablation_test, sample_matched_units
    from probing.models.sites import model_shape

    options, stimuli, given = plan.options, plan.stimuli, plan.units
    shape = model_shape(lm)
    reference = None if options.ablation == "zero" else _reference(lm, stimuli, given, options)
    sets = _random_sets(given, shape, options, sample_matched_units)
    meta, baseline = _score(lm, stimuli, [], options)
    _, ablated = _score(lm, stimuli, _interventions(given, options.ablation, reference,
                                                    shape.head_dim), options)
    null = [_score(lm, stimuli, _interventions(group, options.ablation, reference,
                                               shape.head_dim), options)[1]
            for _, group in sets.groupby("set", sort=True)]
    tables = _tables(meta, baseline, ablated, null, options, ablation_test)
    tables["units"] = given
    tables["random_sets"] = sets  # the null, auditable: every random set ablated
    tables = identified(tables, model=lm.name, paradigm=plan.paradigm.name)
    reference_set = {"zero": None, "mean": "the paradigm's own stimuli",
                     "resample": "one token of another of the paradigm's stimuli, drawn "
                                 "with random_state"}[options.ablation]
    notes = {"n_units": len(given), "reference": reference_set,
             "n_items": int(meta["item_id"].nunique()),
             "held_out": plan.held_out}
    return Result(tables, {"ablation": _figure(tables["ablation_null"], tables["ablation"])},
                  {"notes": notes})


def _tables(meta, baseline, ablated, null, options, ablation_test):
    frames, behaviour, null_rows = [], [], []
    for metric in baseline:
        stacked = np.stack([run[metric] for run in null])
        frames.append(ablation_test(baseline[metric], ablated[metric], stacked,
                                    phenomena=meta["phenomenon"].to_numpy(),
                                    groups=meta["item_id"].to_numpy(), metric=metric,
                                    n_boot=options.n_boot, random_state=options.random_state))
        for phenomenon, rows in meta.groupby("phenomenon", sort=False).groups.items():
            rows = np.asarray(rows)
            for unit_set, values in (("none", baseline[metric][rows]),
                                     ("given", ablated[metric][rows]),
                                     ("random", stacked[:, rows].mean(axis=0))):
                behaviour.append((phenomenon, unit_set, metric, float(values.mean()), rows.size))
            effects = (stacked[:, rows] - baseline[metric][rows]).mean(axis=1)
            null_rows += [(phenomenon, metric, s, float(e)) for s, e in enumerate(effects)]
    return {"ablation": pd.concat(frames, ignore_index=True),
            "ablation_behaviour": pd.DataFrame(behaviour, columns=["phenomenon", "unit_set",
                                                                   "metric", "estimate", "n"]),
            "ablation_null": pd.DataFrame(null_rows, columns=["phenomenon", "metric", "set",
                                                              "estimate"])}


def _figure(null, ablation):
    """Per phenomenon and metric: the random sets' effects, and the given set's."""
    import matplotlib.pyplot as plt

    panels = list(null.groupby(["phenomenon", "metric"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.5 * len(panels), 3), squeeze=False)
    for ax, ((phenomenon, metric), rows) in zip(axes[0], panels, strict=True):
        ax.hist(rows["estimate"], bins=20, color="0.7", label="random sets")
        given = ablation[(ablation["phenomenon"] == phenomenon) & (ablation["metric"] == metric)
                         & (ablation["unit_set"] == "given")]
        ax.axvline(float(given["estimate"].iloc[0]), color="C3", label="given set")
        ax.set_title(f"{phenomenon}\n{metric}", fontsize=8)
        ax.set_xlabel("effect (ablated - plain)")
    axes[0][0].legend(fontsize=7)
    return fig
