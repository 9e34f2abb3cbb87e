"""Attribution patching: a first-order estimate of every patching effect at once.

For a target run with read-out ``m`` (the summed log-probability of the target
member's tokens) and an activation ``a`` at (layer, position), patching in the source's
``a'`` changes ``m`` by about ``grad_a m . (a' - a)`` (Nanda 2023; Syed et al. 2023;
AtP, Kramar et al. 2024). One forward and one backward pass per batch of targets give
the estimate for every layer x position (x head) of a site. It is a screen, not a
measurement: it misses effects through saturated softmaxes (attention and the read-out)
and cancellations between paths, the failure modes AtP* names, so follow it with exact
patching (:func:`~probing.models.patch_runs.patch_pairs`) of the top candidates and report
how well the two agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from probing.models.batching import flat_indices, pad_sequences, plan_batches
from probing.models.causal_lm import accepts_position_ids, forward_logits
from probing.models.pair_runs import check_options, prepare_pairs
from probing.models.sites import edit_points

__all__ = ["ATTRIBUTION_COLUMNS", "attribute_pairs", "compare_with_exact"]

ATTRIBUTION_COLUMNS = ("pair_id", "layer", "site", "position", "head", "alignment", "estimate")


def _grad_run(lm, inputs, targets, points, use_positions):
    """Activations and gradients of the summed target log-probs at every point."""
    batch = pad_sequences(inputs, pad_id=lm.start_token_id).to(lm.device)
    kept = {}

    def keep(point):
        def edit(tensor):
            kept[point] = tensor
            return tensor
        return edit

    with torch.enable_grad(), edit_points(lm.model.base_model, {p: keep(p) for p in points}):
        logits, _ = forward_logits(lm.model, batch, pass_position_ids=use_positions, use_cache=False)
        rows, cols, ids = flat_indices(batch, targets, lm.device)
        logprobs = logits.log_softmax(-1)[rows, cols, ids]
        order = list(kept)
        # autograd.grad rather than backward: the weights' .grad stay untouched
        grads = torch.autograd.grad(logprobs.sum(), [kept[p] for p in order])
    return batch, {p: (kept[p].detach(), g) for p, g in zip(order, grads, strict=True)}


def attribute_pairs(lm, pairs, *, layers="all", site="resid_post", per_head=False, batch_size=8):
    """First-order estimates of :func:`~probing.models.patch_runs.patch_pairs` effects.

    Parameters
    ----------
    lm : LanguageModel
        A causal LM.
    pairs : pandas.DataFrame
        ``pair_id``, ``source``, ``target`` (as for ``patch_pairs``).
    layers, site, per_head
        As for ``patch_pairs``.
    batch_size : int, default 8
        Targets per forward and backward pass.

    Returns
    -------
    pandas.DataFrame
        ``ATTRIBUTION_COLUMNS``: ``estimate`` is the predicted change of the target
        member's summed log-probability when the activation is patched from the source.
    """
    shape, layers = check_options(lm, site, layers, per_head)
    runs = prepare_pairs(lm, pairs, [(site, layer) for layer in layers], batch_size)
    ids, aligned, recorded = runs.ids, runs.aligned, runs.recorded
    inputs, tokens = runs.t_inputs, [np.asarray(t.token_ids) for t in runs.targets]
    points = [(site, layer) for layer in layers]
    use_positions = accepts_position_ids(lm.model)
    heads = range(shape.n_heads) if per_head else [-1]
    rows = []
    for indices in plan_batches([len(x) for x in inputs], batch_size=batch_size):
        batch, grads = _grad_run(lm, [inputs[i] for i in indices], [tokens[i] for i in indices],
                                 points, use_positions)
        for r, i in enumerate(indices):
            s_pos, t_pos, rule = aligned[i]
            cols = [int(batch.columns[r][p + 1]) for p in t_pos]
            for site_layer in points:
                act, grad = grads[site_layer]
                delta = recorded[site_layer][i][[p + 1 for p in s_pos]].to(act.device) - act[r, cols]
                product = (grad[r, cols] * delta).to(torch.float64).cpu().numpy()
                for h in heads:
                    part = product if h < 0 else product[:, h * shape.head_dim:
                                                         (h + 1) * shape.head_dim]
                    for p, value in zip(t_pos, part.sum(axis=1), strict=True):
                        rows.append((ids[i], site_layer[1], site, p, h, rule, float(value)))
    return pd.DataFrame(rows, columns=list(ATTRIBUTION_COLUMNS))


def compare_with_exact(estimates, patched, *, top_k=10):
    """Agreement of attribution estimates with exact patching effects.

    Parameters
    ----------
    estimates : pandas.DataFrame
        From :func:`attribute_pairs`.
    patched : pandas.DataFrame
        From :func:`~probing.models.patch_runs.patch_pairs` on the same pairs and site.
    top_k : int, default 10

    Returns
    -------
    dict
        ``spearman`` (rank correlation of estimate and exact effect over all cells),
        ``top_k_found`` (how many of the exact top-k cells by absolute effect are in the
        estimate's top-k) and ``n`` cells.
    """
    from scipy.stats import spearmanr  # scipy only here: the adapter needs it nowhere else

    keys = ["pair_id", "layer", "position", "head"]
    plain = patched[(patched["run"] == "target") & (patched["member"] == "target")]
    exact = patched[(patched["run"] == "patched") & (patched["member"] == "target")].merge(
        plain[["pair_id", "logprob"]], on="pair_id", suffixes=("", "_plain"))
    exact = exact.assign(exact=exact["logprob"] - exact["logprob_plain"])
    both = exact[[*keys, "exact"]].merge(estimates[[*keys, "estimate"]], on=keys)
    k = min(top_k, len(both))
    top_exact = set(both["exact"].abs().nlargest(k).index)
    top_estimate = set(both["estimate"].abs().nlargest(k).index)
    rho = spearmanr(both["exact"], both["estimate"]).statistic if len(both) > 1 else np.nan
    return {"spearman": float(rho), "top_k_found": len(top_exact & top_estimate), "top_k": k,
            "n": len(both)}
