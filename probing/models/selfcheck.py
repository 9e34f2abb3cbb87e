"""Self-checks of the intervention engine that users can run on their own model and texts.

Three identities must hold (to float rounding) for any model:

``empty``
    An empty list of interventions gives the plain run.
``own_patch``
    Patching every position of a site, at every layer at once, with the text's *own*
    activations changes nothing.
``source_patch``
    Patching every position of the residual stream after layer L from a source text
    (of the same token count) makes every later layer equal to the source's own run:
    from there on the model sees only the source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.interventions import SITES, Intervention
from probing.models.scoring import score_tokens
from probing.models.site_activations import compute_activations
from probing.models.sites import eager_attention, model_shape
from probing.models.token_alignment import encode_texts

__all__ = ["CHECK_COLUMNS", "check_interventions"]

CHECK_COLUMNS = ("check", "site", "layer", "readout", "estimate", "tolerance", "n", "passed")


def _activations(lm, texts, interventions=None, batch_size=8):
    return compute_activations(lm, texts, [[None]] * len(texts), pooling="mean",
                               store_dtype="float64", batch_size=batch_size,
                               interventions=interventions)


def _row(check, site, layer, readout, value, tolerance, n):
    return {"check": check, "site": site, "layer": layer, "readout": readout,
            "estimate": float(value), "tolerance": tolerance, "n": n,
            "passed": bool(value <= tolerance)}


def _same_length_pairs(lm, texts):
    lengths = [len(e.token_ids) for e in encode_texts(lm.tokenizer, list(texts))]
    by_length = {}
    for i, n in enumerate(lengths):
        by_length.setdefault(n, []).append(i)
    return [(g[k], g[(k + 1) % len(g)]) for g in by_length.values() if len(g) > 1
            for k in range(len(g))]


def check_interventions(lm, texts, *, tolerance=None, batch_size=8):
    """Run the three self-checks of the intervention engine.

    Parameters
    ----------
    lm : LanguageModel
    texts : sequence of str
        At least two texts with the same number of tokens are needed for
        ``source_patch`` (its rows have ``n == 0`` otherwise).
    tolerance : float, optional
        Largest allowed absolute difference; default ``1e-8`` for float64 models,
        ``1e-4`` otherwise (times the largest activation).
    batch_size : int, default 8

    Returns
    -------
    pandas.DataFrame
        ``CHECK_COLUMNS``: ``check`` (empty, own_patch, source_patch), ``site``,
        ``layer`` (-1: all layers at once), ``readout`` (``activations`` = mean-pooled
        ``resid_post`` of every layer; ``logprob`` = token scores), ``estimate`` (largest
        absolute difference), ``tolerance``, ``n`` (texts), ``passed``.
    """
    texts = list(texts)
    if not texts:
        raise ProbingError("check_interventions needs at least one text")
    shape = model_shape(lm)
    plain = _activations(lm, texts, batch_size=batch_size)
    if tolerance is None:
        tolerance = 1e-8 if str(lm.dtype) == "torch.float64" else 1e-4
        tolerance *= max(1.0, float(np.abs(plain).max()))
    table = pd.DataFrame({"stimulus_id": [f"t{i}" for i in range(len(texts))], "text": texts})
    scores = score_tokens(lm, table, batch_size=batch_size)["logprob"].to_numpy()
    diff = np.abs(_activations(lm, texts, [], batch_size) - plain).max()
    rows = [_row("empty", "", -1, "activations", diff, tolerance, len(texts))]
    got = score_tokens(lm, table, batch_size=batch_size, interventions=[])["logprob"]
    rows.append(_row("empty", "", -1, "logprob", np.abs(got.to_numpy() - scores).max(),
                     tolerance, len(texts)))
    for site in SITES:
        layers = shape.layer_range(site)
        own = [[Intervention(layer=layer, site=site, op="patch", source=text,
                             positions="sequence") for layer in layers] for text in texts]
        reference = plain
        if site == "pattern":  # read in eager attention: compare with the eager plain run
            with eager_attention(lm.model.base_model):
                reference = _activations(lm, texts, batch_size=batch_size)
        diff = np.abs(_activations(lm, texts, own, batch_size) - reference).max()
        rows.append(_row("own_patch", site, -1, "activations", diff, tolerance, len(texts)))
    rows += _source_rows(lm, texts, plain, shape, tolerance, batch_size)
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def _source_rows(lm, texts, plain, shape, tolerance, batch_size):
    pairs = _same_length_pairs(lm, texts)
    rows = []
    for layer in shape.layer_range("resid_post"):
        if not pairs:
            rows.append({**_row("source_patch", "resid_post", layer, "activations", 0.0,
                                tolerance, 0), "estimate": np.nan, "passed": False})
            continue
        targets = [texts[t] for t, _ in pairs]
        patches = [[Intervention(layer=layer, site="resid_post", op="patch", source=texts[s],
                                 positions="sequence")] for _, s in pairs]
        got = _activations(lm, targets, patches, batch_size)[:, layer:]
        want = plain[[s for _, s in pairs]][:, layer:]
        diff = np.abs(got - want).max() if got.size else 0.0
        rows.append(_row("source_patch", "resid_post", layer, "activations", diff, tolerance,
                         len(pairs)))
    return rows
