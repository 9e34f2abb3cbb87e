"""Interchange interventions on the subject-number direction of an agreement paradigm.

Study-specific (the agreement real case, ``benchmarks/causal_real_case.py``; its default
factor is ``subject_number`` and no command runs it), so it lives with the benchmarks,
not in the package (issue #23).

For each item of a paradigm with a two-level ``subject_number`` factor (and the other
factors held), the *base* is one subject number's grammatical sentence and the *source*
the other's. At a layer, the component of the base run's residual stream in a linear
subspace (at the tokens of one region) is replaced by the source run's; the intervened
base then prefers one verb form over the other (its good member's summed log-probability
minus its bad member's). The causal model says the preferred verb should follow the
*source's* subject number: interchange-intervention accuracy (IIA) is how often it does.

Subspaces are fitted on other items than those intervened on (``fit_items``): the
difference of class means of the region's last-token state, per layer. Controls, rows
of the same table (:func:`probing.causal.interchange_accuracy`): a control task (the
direction of a random label per source subject word, scored against that label), the
re-initialised model (its own subspace), and random subspaces of the same dimension.

With ``das``, a subspace found by distributed alignment search
(:func:`probing.models.das.fit_das_subspace`) is added per layer: trained on the
fit items' own base/source pairs to make the intervened base prefer the source's verb
form, evaluated on the test items like the others, with the same controls (DAS fitted
on the re-initialised model, and on the control task's labels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["DAS_OPTIONS", "build_interchange_pairs", "check_das_options", "run_interchange"]

#: Options of the DAS rows, with their defaults (``rank``, ``steps``, ``lr``,
#: ``batch_size`` go to :func:`probing.models.das.fit_das_subspace`; ``control`` also
#: fits DAS on the control task's labels).
DAS_OPTIONS = {"rank": 1, "steps": 200, "lr": 0.01, "batch_size": 16, "control": True}


def check_das_options(das):
    """``None`` (no DAS rows), or the full options of :data:`DAS_OPTIONS`.

    ``das`` is ``None``/``False``, ``True`` (the defaults) or a mapping of some options.
    Checked without a model, so before any loads.
    """
    if das is None or das is False:
        return None
    if das is True:
        das = {}
    if not hasattr(das, "items"):
        raise ProbingError(f"interchange: das must be True, False or a mapping of "
                           f"{sorted(DAS_OPTIONS)}; got {das!r}")
    unknown = sorted(set(das) - set(DAS_OPTIONS))
    if unknown:
        raise ProbingError(f"interchange: das has unknown option(s) {unknown}; allowed: "
                           f"{sorted(DAS_OPTIONS)}")
    options = {**DAS_OPTIONS, **das}
    for name in ("rank", "steps", "batch_size"):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProbingError(f"interchange: das {name} must be a positive integer; got "
                               f"{value!r}")
    lr = options["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < np.inf:
        raise ProbingError(f"interchange: das lr must be a positive number; got {lr!r}")
    if not isinstance(options["control"], bool):
        raise ProbingError(f"interchange: das control must be True or False; got "
                           f"{options['control']!r}")
    return options


def build_interchange_pairs(stimuli, *, factor="subject_number"):
    """Base/source pairs of grammatical members that differ only in ``factor``, both ways.

    Returns
    -------
    pandas.DataFrame
        ``item_id, base_id, base_bad_id, source_id, base_level, source_level``, plus
        the texts ``base, base_bad, source``.
    """
    table = stimuli.table
    if factor not in table.columns or "role" not in table.columns:
        raise ProbingError(f"interchange: the paradigm needs a {factor!r} factor and "
                           f"good/bad members")
    levels = list(pd.unique(table[factor]))
    if len(levels) != 2:
        raise ProbingError(f"interchange: {factor!r} must have 2 levels, has {levels}")
    held = ["item_id", *[f for f in (stimuli.factors or []) if f != factor and f in table]]
    good = table[table["role"] == "good"]
    bad = table[table["role"] == "bad"].set_index("pair_id")
    rows = []
    for _, group in good.groupby(held, sort=False):
        by_level = group.set_index(factor)
        if not set(levels) <= set(by_level.index):
            continue
        for base_level, source_level in (levels, levels[::-1]):
            b, s = by_level.loc[base_level], by_level.loc[source_level]
            rows.append({"item_id": b["item_id"], "base_id": b["stimulus_id"],
                         "base_bad_id": bad.loc[b["pair_id"], "stimulus_id"],
                         "source_id": s["stimulus_id"], "base_level": base_level,
                         "source_level": source_level, "base": b["text"],
                         "base_bad": bad.loc[b["pair_id"], "text"], "source": s["text"]})
    return pd.DataFrame(rows)


def _spans(regions, stimulus_ids):
    """Per stimulus, ``{region: (char_start, char_end)}``."""
    out = {sid: {} for sid in stimulus_ids}
    for r in regions[regions["stimulus_id"].isin(out)].itertuples(index=False):
        out[r.stimulus_id][r.region] = (int(r.char_start), int(r.char_end))
    return [out[sid] for sid in stimulus_ids]


def _region_states(lm, table, spans, layers, region, batch_size):
    """``(n_stimuli, n_layers, width)``: each stimulus' last token of ``region``."""
    from probing.models.site_activations import compute_activations

    segments = [[s[region]] for s in spans]
    return compute_activations(lm, table["text"].tolist(), segments, layers=layers,
                               pooling="last", store_dtype="float64", batch_size=batch_size)


def _verb_preference(lm, pairs, layer, region, basis, regions, batch_size):
    """Per pair: summed log p(base good) - log p(base bad) with the subspace interchanged."""
    from probing.interventions import Intervention
    from probing.models import score_tokens

    texts = pd.DataFrame({"stimulus_id": [*pairs["base_id"], *pairs["base_bad_id"]],
                          "text": [*pairs["base"], *pairs["base_bad"]]})
    units = tuple(map(tuple, np.asarray(basis).T.tolist()))
    plan = {}
    for r in pairs.itertuples(index=False):
        iv = Intervention(layer=int(layer), site="resid_post", op="patch", source=r.source,
                          positions=f"region:{region}", units=units)
        plan[r.base_id] = plan[r.base_bad_id] = [iv]
    tokens = score_tokens(lm, texts, interventions=plan, regions=regions,
                          batch_size=batch_size)
    total = tokens.groupby("stimulus_id")["logprob"].sum()
    return (total.loc[pairs["base_id"]].to_numpy()
            - total.loc[pairs["base_bad_id"]].to_numpy())


def _spans_by_stimulus(stimuli):
    """Region spans of each stimulus, by ``stimulus_id``."""
    ids = stimuli.table["stimulus_id"].tolist()
    return dict(zip(ids, _spans(stimuli.regions, ids), strict=True))


def _aligned(lm, pairs, stimuli, regions_used):
    """Pairs whose base and source have the same token count in every region used."""
    from probing.models import encode_texts

    spans = _spans_by_stimulus(stimuli)
    keep = []
    for r in pairs.itertuples(index=False):
        base, source = encode_texts(lm.tokenizer, [r.base, r.source])
        ok = True
        for region in regions_used:
            counts = []
            for enc, sid in ((base, r.base_id), (source, r.source_id)):
                start, end = spans[sid][region]
                counts.append(sum(start <= s < end for s, _ in enc.spans))
            ok &= counts[0] == counts[1]
        keep.append(ok)
    return pairs[np.array(keep, dtype=bool)].reset_index(drop=True)


def _words(stimuli, ids, region="subject"):
    text = stimuli.table.set_index("stimulus_id")["text"]
    spans = _spans(stimuli.regions, list(ids))
    return np.array([text.loc[sid][s[region][0]:s[region][1]] for sid, s in
                     zip(ids, spans, strict=True)], dtype=object)


def _fit_states(lm, stimuli, fit_items, layers, regions, factor, batch_size):
    """Per region, ``(n_fit, n_layers, width)`` states, the factor's labels, and words."""
    table = stimuli.table
    fit = table[(table["role"] == "good") & table["item_id"].isin(fit_items)]
    fit = fit.reset_index(drop=True)
    spans = _spans(stimuli.regions, fit["stimulus_id"].tolist())
    from probing.models.site_activations import compute_activations

    segments = [[s[r] for r in regions] for s in spans]
    states = compute_activations(lm, fit["text"].tolist(), segments, layers=layers,
                                 pooling="last", store_dtype="float64", batch_size=batch_size)
    states = states.reshape(len(fit), len(regions), len(layers), -1)
    return ({r: states[:, i] for i, r in enumerate(regions)}, fit[factor].to_numpy(),
            _words(stimuli, fit["stimulus_id"]))


def run_interchange(lm, stimuli, *, layer_regions, fit_items, test_items, reinitialized=None,
                    n_random=3, factor="subject_number", n_boot=2000, random_state=0,
                    batch_size=16, on_layer=None, das=None):
    """IIA of the ``factor`` direction per layer, next to its controls.

    Parameters
    ----------
    lm : probing.models.LanguageModel
    stimuli : probing.paradigms.Stimuli
        A minimal-pair paradigm with regions and a two-level ``factor``.
    layer_regions : mapping int -> str
        The layers (``resid_post``) and, for each, the region whose tokens are
        interchanged (e.g. the subject early, the last word before the verb late).
    fit_items, test_items : sequence of int
        Items whose states fit the subspaces, and items intervened on (disjoint).
    reinitialized : probing.models.LanguageModel, optional
        The re-initialised control model (:func:`probing.models.reinitialize`).
    n_random : int
        Random subspaces of the same dimension per layer.
    on_layer : callable, optional
        Called with the table so far after each layer (to save partial results).
    das : bool or mapping, optional
        Add ``subspace = "das"`` rows (see :func:`check_das_options`): DAS fitted on the
        fit items' pairs at the layer and region, per model, and (``control``) on the
        control task's labels.

    Returns
    -------
    pandas.DataFrame
        :data:`probing.causal.IIA_COLUMNS` plus ``region``; ``subspace`` is
        ``mean_difference``, ``random`` or ``das``, ``task`` is ``task`` or ``control``,
        ``model_weights`` is ``trained`` or ``reinitialised``.

    Examples
    --------
    >>> table = run_interchange(lm, stimuli, layer_regions={12: "subject"},
    ...                         fit_items=range(26, 51), test_items=range(1, 26),
    ...                         das={"steps": 50})  # doctest: +SKIP
    """
    das = check_das_options(das)
    if set(fit_items) & set(test_items):
        raise ProbingError("interchange: fit_items and test_items must be disjoint")
    regions = sorted(set(layer_regions.values()))
    all_pairs = build_interchange_pairs(stimuli, factor=factor)
    pairs = _aligned(lm, all_pairs[all_pairs["item_id"].isin(test_items)], stimuli, regions)
    if pairs.empty:
        raise ProbingError("interchange: no test pair whose members align in the regions")
    if das is not None:
        fit_pairs = _aligned(lm, all_pairs[all_pairs["item_id"].isin(fit_items)], stimuli,
                             regions)
        if fit_pairs.empty:
            raise ProbingError("interchange: das needs fit pairs whose members align in the "
                               "regions; none do")
        das = {**das, "pairs": fit_pairs,
               "positions": {r: _region_positions(lm, fit_pairs, stimuli, r) for r in regions}}
    models = [("trained", lm)] + ([("reinitialised", reinitialized)] if reinitialized else [])
    fitted = {name: _fit_states(m, stimuli, fit_items, sorted(layer_regions), regions,
                                factor, batch_size) for name, m in models}
    frames = []
    for layer in sorted(layer_regions):
        for name, model in models:
            frames.extend(_layer_rows(model, name, layer, layer_regions[layer], pairs,
                                      fitted[name], sorted(layer_regions), stimuli,
                                      n_random=n_random if name == "trained" else 0,
                                      n_boot=n_boot, random_state=random_state,
                                      batch_size=batch_size, das=das))
        if on_layer is not None:
            on_layer(pd.concat(frames, ignore_index=True))
    return pd.concat(frames, ignore_index=True)


def _region_positions(lm, pairs, stimuli, region):
    """Per pair, the region's token indices in the base and in the source."""
    from probing.interventions import resolve_positions
    from probing.models import encode_texts

    spans = _spans_by_stimulus(stimuli)
    out = []
    for r in pairs.itertuples(index=False):
        base, source = encode_texts(lm.tokenizer, [r.base, r.source])
        out.append(tuple(
            resolve_positions(f"region:{region}", enc.spans, text=text, regions=spans[sid])
            for enc, text, sid in ((base, r.base, r.base_id), (source, r.source, r.source_id))))
    return out


def _das_basis(lm, das, layer, region, prefer_base, random_state):
    """DAS basis fitted on the fit pairs; ``prefer_base`` per pair: the base's own verb
    form is the wanted output (control task) instead of the source's."""
    from probing.models.das import fit_das_subspace

    fit = das["pairs"]
    frame = pd.DataFrame({
        "source": fit["source"],
        "counterfactual": np.where(prefer_base, fit["base"], fit["base_bad"]),
        "factual": np.where(prefer_base, fit["base_bad"], fit["base"])})
    options = {k: das[k] for k in ("rank", "steps", "lr", "batch_size")}
    basis, _ = fit_das_subspace(lm, frame, layer=int(layer), site="resid_post",
                                positions=das["positions"][region],
                                random_state=random_state + int(layer), **options)
    return basis


def _layer_rows(lm, name, layer, region, pairs, fitted, layers, stimuli, *, n_random, n_boot,
                random_state, batch_size, das=None):
    from probing.causal import (
        interchange_accuracy,
        make_control_counterfactuals,
        mean_difference_subspace,
        random_subspaces,
    )

    states, labels, words = fitted
    X = states[region][:, layers.index(layer)]
    groups = pairs["item_id"].to_numpy()
    expected = pairs["source_level"].to_numpy()

    def predict(basis):
        diff = _verb_preference(lm, pairs, layer, region, basis, stimuli.regions, batch_size)
        return np.where(diff > 0, pairs["base_level"], pairs["source_level"])

    def table(predicted, want, **labels_):
        return interchange_accuracy(predicted, want, layers=[layer], groups=groups,
                                    n_boot=n_boot, random_state=random_state,
                                    **labels_).assign(region=region)

    basis = mean_difference_subspace(X, labels)
    rows = [table(predict(basis)[:, None], expected, subspace="mean_difference",
                  model_weights=name)]
    fit_prefer_base = np.zeros(0 if das is None else len(das["pairs"]), dtype=bool)
    if das is not None:  # the task: the source's verb form (base_bad) is wanted
        basis_das = _das_basis(lm, das, layer, region, fit_prefer_base, random_state)
        rows.append(table(predict(basis_das)[:, None], expected, subspace="das",
                          model_weights=name))
    if name != "trained":
        return rows
    # control task: a random class per subject word (fit words and test sources together;
    # the DAS fit pairs' sources are fit words, so they add no type and change no label)
    sources = _words(stimuli, pairs["source_id"])
    das_sources = np.array([], dtype=object) if das is None else _words(stimuli, das["pairs"]["source_id"])
    control = make_control_counterfactuals(np.concatenate([words, sources, das_sources]),
                                           random_state=random_state)
    fit_control = control[:len(words)]
    want_control = control[len(words):len(words) + len(sources)]
    levels = sorted(set(labels))
    as_code = np.vectorize(levels.index)
    predicted = as_code(predict(mean_difference_subspace(X, fit_control)))
    rows.append(table(predicted[:, None], want_control, subspace="mean_difference",
                      task="control"))
    if das is not None and das["control"]:
        wanted = np.asarray(levels, dtype=object)[control[len(words) + len(sources):]]
        prefer_base = wanted == das["pairs"]["base_level"].to_numpy()
        predicted = as_code(predict(_das_basis(lm, das, layer, region, prefer_base,
                                               random_state)))
        rows.append(table(predicted[:, None], want_control, subspace="das", task="control"))
    bases = random_subspaces(X.shape[1], basis.shape[1], n_subspaces=n_random,
                             random_state=random_state + layer) if n_random else []
    if len(bases):
        predicted = np.stack([predict(b) for b in bases], axis=1)
        rows.append(table(predicted[:, None, :], expected, subspace="random"))
    return rows
