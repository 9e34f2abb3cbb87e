"""Distributed alignment search (DAS): learn the subspace an interchange should swap.

Geiger et al. (2024) learn an orthogonal rotation of a hidden state and swap its first
``rank`` coordinates between a base and a source run; equivalently, an orthonormal
basis ``B`` (``n_units x rank``) with the interchange ``h <- h + (h_src - h) B B^T`` at a
site, layer and token positions. ``B`` is trained so that the intervened base run
prefers the *counterfactual* continuation (what the causal model predicts under the
source's value) over the factual one: loss ``-log sigmoid(log p(counterfactual) -
log p(factual))``, the two-way cross-entropy of the choice. Only the basis is
trained (the model's weights are frozen and restored); the map stays linear, as
non-linear alignment maps reach perfect accuracy even on random models (Sutter et al.
2025). The basis goes through :func:`probing.causal.interchange_accuracy` like any
other; fit it on other items than those it is evaluated on.
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
import pandas as pd
import torch

from probing._core.errors import ProbingError
from probing.interventions import SITES
from probing.models.batching import pad_sequences
from probing.models.causal_lm import accepts_position_ids
from probing.models.intervention_hooks import _frame, record_points
from probing.models.sites import edit_points, model_shape
from probing.models.token_alignment import encode_texts

__all__ = ["DAS_LOG_COLUMNS", "fit_das_subspace"]

#: Columns of the training log.
DAS_LOG_COLUMNS = ("step", "loss", "accuracy")
_PAIR_COLUMNS = ("source", "counterfactual", "factual")


def _fail(name, message):
    raise ProbingError(f"fit_das_subspace: {name} {message}")


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (
            high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        _fail(name, f"must be an integer {allowed}; got {value!r}")
    return int(value)


def _check_options(lm, pairs, site, layer, rank, steps, lr, batch_size):
    """Validate everything before any forward pass; return the site's width."""
    if lm.kind != "causal":
        _fail("lm", f"must be a causal LM (continuations are scored); got {lm.kind!r}")
    if site not in SITES:
        _fail("site", f"must be one of {', '.join(SITES)}; got {site!r}")
    if site == "pattern":  # rows over key positions: no fixed vector to rotate
        _fail("site", "'pattern' has no fixed width; use a vector site (e.g. 'q', 'v', "
                      "'mlp_post', 'resid_post')")
    shape = model_shape(lm)
    allowed = shape.layer_range(site)
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or \
            layer not in allowed:
        _fail("layer", f"of site {site!r} must be in {allowed.start}..{allowed.stop - 1}; "
                       f"got {layer!r}")
    width = shape.width(site)
    _check_int("rank", rank, 1, width)
    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    if not isinstance(lr, numbers.Real) or not np.isfinite(lr) or lr <= 0:
        _fail("lr", f"must be a positive number; got {lr!r}")
    if not isinstance(pairs, pd.DataFrame) or pairs.empty:
        _fail("pairs", "must be a non-empty DataFrame with columns "
                       f"{', '.join(_PAIR_COLUMNS)}")
    missing = [c for c in _PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        _fail("pairs", f"lacks column(s) {missing}; needs {', '.join(_PAIR_COLUMNS)}")
    return width


def _check_positions(positions, encoded, n_pairs):
    """Per pair ``(base positions, source positions)`` as framed indices (start = 0)."""
    if isinstance(positions, str) or len(positions) != n_pairs:
        _fail("positions", f"must give (base positions, source positions) for each of the "
                           f"{n_pairs} pairs")
    out = []
    for i, (entry, (source, cf, alt)) in enumerate(zip(positions, encoded, strict=True)):
        try:
            base_pos, source_pos = ([int(p) for p in side] for side in entry)
        except (TypeError, ValueError):
            _fail("positions", f"of pair {i} must be (base positions, source positions), "
                               f"lists of token indices; got {entry!r}")
        if not base_pos or len(base_pos) != len(source_pos):
            _fail("positions", f"of pair {i}: base and source need the same, non-zero number "
                               f"of positions; got {base_pos} and {source_pos}")
        n_base = min(len(cf.token_ids), len(alt.token_ids))
        if min(base_pos + source_pos) < 0 or max(base_pos) >= n_base or \
                max(source_pos) >= len(source.token_ids):
            _fail("positions", f"of pair {i} out of range: base has {n_base} tokens, source "
                               f"{len(source.token_ids)}; got {base_pos} and {source_pos}")
        out.append(([p + 1 for p in base_pos], [p + 1 for p in source_pos]))
    return out


@contextlib.contextmanager
def _frozen(model):
    """Weights without gradients and the model in eval mode; both restored on exit."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    training = model.training
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        model.eval()
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(training)


def _sequence_logprobs(logits, batch):
    """Summed log-probability of each row's real tokens after the start token."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    totals = []
    for row, cols in enumerate(batch.columns):
        cols = torch.as_tensor(cols, device=logits.device)
        targets = batch.input_ids[row, cols[1:]]
        totals.append(logp[row, cols[:-1]].gather(-1, targets[:, None]).sum())
    return torch.stack(totals)


class _Trainer:
    """One site's interchange with a trainable basis, for batches of pairs."""

    def __init__(self, lm, point, sequences, positions, payloads, basis):
        self.lm, self.point, self.basis = lm, point, basis
        self.sequences, self.positions, self.payloads = sequences, positions, payloads
        self.use_positions = accepts_position_ids(lm.model.base_model)
        self.current = None

    def edit(self, tensor):
        rows, cols, source = self.current
        x = tensor[rows, cols]
        b = self.basis.weight  # (n_units, rank), orthonormal columns
        delta = ((source - x.float()) @ b) @ b.T
        return tensor.index_put((rows, cols), (x.float() + delta).to(tensor.dtype))

    def margins(self, indices):
        """``log p(counterfactual) - log p(factual)`` of the pairs, intervened."""
        seqs = [s for i in indices for s in self.sequences[i]]
        batch = pad_sequences(seqs, pad_id=self.lm.start_token_id)
        batch.to(self.lm.device)
        rows, cols, source = [], [], []
        for row, i in enumerate(np.repeat(indices, 2)):
            base_pos = self.positions[i][0]
            rows.extend([row] * len(base_pos))
            cols.extend(int(batch.columns[row][p]) for p in base_pos)
            source.append(self.payloads[i])
        device = self.lm.device
        self.current = (torch.as_tensor(rows, device=device),
                        torch.as_tensor(cols, device=device), torch.cat(source).to(device))
        inputs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
        if self.use_positions:
            inputs["position_ids"] = batch.position_ids
        with edit_points(self.lm.model.base_model, {self.point: self.edit}):
            logits = self.lm.model(**inputs).logits
        totals = _sequence_logprobs(logits, batch)
        return totals[0::2] - totals[1::2]


def _initial_basis(width, rank, random_state):
    """A seeded Linear whose weight is parametrised to orthonormal columns."""
    generator = torch.Generator().manual_seed(int(random_state))
    linear = torch.nn.Linear(rank, width, bias=False, dtype=torch.float32)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(width, rank, generator=generator))
        linear.weight.copy_(q)
    # torch's parametrisation keeps the columns exactly orthonormal during training
    return torch.nn.utils.parametrizations.orthogonal(linear)


def fit_das_subspace(lm, pairs, *, layer, site="resid_post", positions, rank=1, steps=200,
                     lr=0.01, random_state=0, batch_size=16):
    """Orthonormal basis whose interchange makes the model give the counterfactual output.

    Parameters
    ----------
    lm : LanguageModel
        A causal LM; its weights are frozen during the fit and left unchanged.
    pairs : pandas.DataFrame
        One row per (base, source) pair: ``source`` (the source text), ``counterfactual``
        (the base text continued as the causal model predicts under the source's value,
        e.g. the base sentence with the source's verb number) and ``factual`` (the
        base text with the other continuation, e.g. the base's own verb form). Both base
        texts share the prefix that holds the intervened positions.
    layer : int
        Layer of ``site`` (``resid_post`` 0 is the embeddings).
    site : str, default "resid_post"
        One of :data:`probing.interventions.SITES`.
    positions : sequence of (sequence of int, sequence of int)
        Per pair, the base's token indices (0 = the first token of the text, as in
        :class:`~probing.interventions.Intervention`) and the aligned source indices.
    rank : int, default 1
        Dimension of the subspace.
    steps : int, default 200
        Adam steps, each on ``batch_size`` pairs (a seeded reshuffle per epoch).
    lr : float, default 0.01
    random_state : int, default 0
        Seeds the initial basis and the batch order.
    batch_size : int, default 16
        Pairs per step (two texts each).

    Returns
    -------
    basis : numpy.ndarray of shape (n_units, rank)
        Orthonormal columns (float64).
    log : pandas.DataFrame
        ``step, loss, accuracy`` per step (accuracy: the batch's share of pairs whose
        counterfactual is preferred).

    Examples
    --------
    >>> basis, log = fit_das_subspace(lm, pairs, layer=6, positions=positions)  # doctest: +SKIP
    >>> basis.shape, list(log.columns)  # doctest: +SKIP
    ((576, 1), ['step', 'loss', 'accuracy'])
    """
    width = _check_options(lm, pairs, site, layer, rank, steps, lr, batch_size)
    cols = [pairs[c].astype(str).tolist() for c in _PAIR_COLUMNS]
    flat = encode_texts(lm.tokenizer, [t for triple in zip(*cols, strict=True) for t in triple])
    encoded = [flat[i:i + 3] for i in range(0, len(flat), 3)]
    framed_positions = _check_positions(positions, encoded, len(pairs))
    point = (site, int(layer))
    sources = sorted({s for s in cols[0]})
    source_enc = dict(zip(sources, encode_texts(lm.tokenizer, sources), strict=True))
    recorded = record_points(lm, [source_enc[s] for s in sources], [point],
                             batch_size=batch_size)[point]
    row_of = {s: k for k, s in enumerate(sources)}
    payloads = [recorded[row_of[s]][src_pos].float()
                for s, (_, src_pos) in zip(cols[0], framed_positions, strict=True)]
    sequences = [(_frame(lm, cf.token_ids), _frame(lm, alt.token_ids))
                 for _, cf, alt in encoded]
    rng = np.random.default_rng(random_state)
    order, log = np.array([], dtype=int), []
    # seeded inside fork_rng: the global torch RNG is restored on every exit path
    with torch.random.fork_rng(devices=[]), _frozen(lm.model):
        torch.manual_seed(int(random_state))
        basis = _initial_basis(width, int(rank), random_state).to(lm.device)
        trainer = _Trainer(lm, point, sequences, framed_positions, payloads, basis)
        optimiser = torch.optim.Adam(basis.parameters(), lr=float(lr))
        for step in range(int(steps)):
            if len(order) < min(batch_size, len(pairs)):
                order = np.concatenate([order, rng.permutation(len(pairs))])
            indices, order = order[:batch_size], order[batch_size:]
            margins = trainer.margins(indices)
            loss = torch.nn.functional.softplus(-margins).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            log.append((step, loss.item(), (margins > 0).double().mean().item()))
    with torch.no_grad():
        found = basis.weight.detach().cpu().double().numpy()
    q, r = np.linalg.qr(found)  # exact orthonormality in float64; same span and signs
    return q * np.sign(np.diagonal(r)), pd.DataFrame(log, columns=list(DAS_LOG_COLUMNS))
