"""Path patching: a sender's effect on the read-out through one receiver only.

Activation patching a component measures every path from it to the output at once.
Path patching (Wang et al. 2022, "Interpretability in the wild", section 3; the
TransformerLens path-patching utilities) keeps one: the sender's activation is taken
from the source member while the rest of the target run is frozen, and the change is
let through a single receiver. For each pair, with the target member as the run:

1. the source runs once: its sender activation is recorded (and its plain read-out);
2. the target runs once plain (read-out), recording every attention and MLP output
   between the sender and the receiver;
3. the target runs with the sender patched from the source and those outputs frozen at
   their plain values (so the sender reaches the receiver only through the residual
   stream, directly), recording the receiver;
4. the target runs with only the receiver patched to what step 3 recorded, and is read
   out as ``patch_pairs`` reads it.

Frozen: every ``attn_out`` and ``mlp_out`` after the sender and before the receiver
reads the residual stream (``head_out``/``q``/``k``/``v``/``resid_pre`` at layer R read
the input of block R; ``mlp_out`` R reads it after block R's attention, which is frozen
too unless it holds the sender; ``resid_post`` R also takes block R's outputs). A
``head_out`` receiver is one head's output (its queries, keys and values together), an
``mlp_out`` receiver the MLP's output, both recomputed from the patched stream. A ``head_out`` sender leaves
the other heads of its layer alone (they read the same, unchanged input), and its
layer's ``attn_out`` carries it, so it is not frozen; the MLP of that layer is.

Noising is the same call with the members swapped, as for ``patch_pairs``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pandas as pd
import torch

from probing._core.errors import ProbingError
from probing._core.values import HEAD_SITES, PATH_RECEIVER_SITES, PATH_SENDER_SITES
from probing.models.batching import plan_batches
from probing.models.causal_lm import accepts_position_ids
from probing.models.pair_runs import (
    RunBatch,
    plain_rows,
    prepare_pairs,
    read_copies,
)
from probing.models.patch_align import READOUTS
from probing.models.sites import edit_points, model_shape

__all__ = ["PATH_COLUMNS", "RECEIVER_SITES", "SENDER_SITES", "Component", "check_path",
           "path_patch"]

PATH_COLUMNS = ("pair_id", "run", "sender", "receiver", "alignment", "member", "logprob")
SENDER_SITES = PATH_SENDER_SITES
RECEIVER_SITES = PATH_RECEIVER_SITES


@dataclasses.dataclass(frozen=True)
class Component:
    """A sender or a receiver: a site at a layer, optionally one head (-1: all of it).

    Examples
    --------
    >>> Component("head_out", 1, 0).label
    'head_out:1:0'
    >>> Component("resid_pre", 2).label
    'resid_pre:2'
    """

    site: str
    layer: int
    head: int = -1

    @property
    def label(self):
        """``site:layer[:head]``, the table's ``sender``/``receiver`` value."""
        return f"{self.site}:{self.layer}" + (f":{self.head}" if self.head >= 0 else "")

    def slice(self, head_dim):
        """The units of the site's vector it covers."""
        if self.head < 0:
            return slice(None)
        return slice(self.head * head_dim, (self.head + 1) * head_dim)


def check_path(sender, receiver, shape):
    """Sender and receiver checked against a model's shape and each other.

    The shape can come from the model's configuration, before its weights load
    (``probing path-patch`` does so).

    Parameters
    ----------
    sender, receiver : Component or (site, layer[, head])
    shape : probing.interventions.ModelShape

    Returns
    -------
    (Component, Component)

    Examples
    --------
    >>> from probing.interventions import ModelShape
    >>> shape = ModelShape(n_layers=2, d_model=8, n_heads=2, head_dim=4)
    >>> check_path(("head_out", 1, 0), ("q", 2, 1), shape)[1].label
    'q:2:1'
    >>> check_path(("head_out", 1, 2), ("q", 2, 1), shape)
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: path_patch: sender head 2 out of range [0, 2) at site 'head_out'
    """
    sender = _component(sender, PATH_SENDER_SITES, "sender", shape)
    receiver = _component(receiver, PATH_RECEIVER_SITES, "receiver", shape)
    _receiver_layer_ok(sender, receiver)
    return sender, receiver


def _component(value, allowed, role, shape):
    item = value if isinstance(value, Component) else Component(*value)
    if item.site not in allowed:
        raise ProbingError(f"path_patch: {role} site must be one of {', '.join(allowed)}; "
                           f"got {item.site!r}")
    layers = shape.layer_range(item.site)
    if item.layer not in layers:
        raise ProbingError(f"path_patch: {role} {item.label}: site {item.site!r} has layers "
                           f"{layers.start}..{layers.stop - 1}")
    if item.head >= 0 and item.site not in HEAD_SITES:
        raise ProbingError(f"path_patch: {role} {item.label}: site {item.site!r} has no heads "
                           f"(heads at {', '.join(s for s in allowed if s in HEAD_SITES)})")
    if not -1 <= item.head < shape.heads_of(item.site):
        raise ProbingError(f"path_patch: {role} head {item.head} out of range "
                           f"[0, {shape.heads_of(item.site)}) at site {item.site!r}")
    return item


def frozen_points(sender, receiver):
    """The ``(site, layer)`` outputs held at the target's plain values.

    Examples
    --------
    >>> frozen_points(Component("head_out", 1, 0), Component("q", 3, 1))
    [('mlp_out', 1), ('attn_out', 2), ('mlp_out', 2)]
    >>> frozen_points(Component("head_out", 1, 0), Component("mlp_out", 2))
    [('mlp_out', 1), ('attn_out', 2)]
    """
    last = receiver.layer if receiver.site == "resid_post" else receiver.layer - 1
    points = []
    for layer in range(sender.layer, last + 1):
        if layer > sender.layer:
            points.append(("attn_out", layer))
        if layer > sender.layer or sender.site != "mlp_out":
            points.append(("mlp_out", layer))
    if receiver.site == "mlp_out" and receiver.layer > sender.layer:
        points.append(("attn_out", receiver.layer))  # the MLP reads it with the stream
    return points


def _check_receiver_positions(ids, aligned, positions):
    """Before any forward: every receiver position is an aligned input position."""
    for pid, (_, t_pos, _) in zip(ids, aligned, strict=True):
        missing = [p for p in positions or () if int(p) not in t_pos]
        if missing:
            raise ProbingError(f"path_patch: pair {pid!r}: receiver position {missing[0]} is no "
                               f"aligned input position (allowed {list(t_pos)})")


def _sender_positions(positions, ids, aligned):
    """``positions`` as a set, or per pair (a mapping), checked before any forward: a
    pair's own positions must be aligned input positions of its target."""
    if positions is None or not isinstance(positions, Mapping):
        return None if positions is None else {int(p) for p in positions}
    unknown = set(positions) - set(ids)
    if unknown:
        raise ProbingError(f"path_patch: positions names pair(s) "
                           f"{sorted(unknown, key=str)[:3]} that are not in pairs")
    wanted = {}
    for pid, (_, t_pos, _) in zip(ids, aligned, strict=True):
        wanted[pid] = {int(p) for p in positions.get(pid, ())}
        missing = sorted(wanted[pid] - set(t_pos))
        if missing:
            raise ProbingError(f"path_patch: pair {pid!r}: sender position {missing[0]} is no "
                               f"aligned input position (allowed {list(t_pos)})")
    return wanted


def _receiver_layer_ok(sender, receiver):
    """A receiver that reads its block's input comes a block later; ``mlp_out`` reads the
    stream after its block's attention (an attention sender of its own block reaches it);
    ``resid_post`` holds its block's outputs."""
    reads_input = receiver.site not in ("mlp_out", "resid_post")
    after_mlp = receiver.site == "mlp_out" and sender.site == "mlp_out"
    if receiver.layer < sender.layer + (1 if reads_input or after_mlp else 0):
        raise ProbingError(f"path_patch: receiver {receiver.label} does not come after sender "
                           f"{sender.label}")


def path_patch(lm, pairs, *, sender, receiver, positions=None, receiver_positions=None,
               readout="sentence", batch_size=16):
    """Patch ``sender`` from each source member, reaching the read-out only via ``receiver``.

    Parameters
    ----------
    lm : LanguageModel
        A causal LM.
    pairs : pandas.DataFrame
        ``pair_id``, ``source``, ``target`` as for :func:`~probing.models.patch_pairs`
        (the source gives the sender's activation; the target is the run).
    sender : Component or (site, layer[, head])
        ``head_out`` (one head or all), ``attn_out`` or ``mlp_out`` at a layer.
    receiver : Component or (site, layer[, head])
        ``head_out``/``q``/``k``/``v`` (one head, key/value heads for ``k``/``v``, or
        all) at a later layer, ``mlp_out`` at the sender's layer or later (later for an
        ``mlp_out`` sender), ``resid_pre`` later or ``resid_post`` at the sender's layer
        or later.
    positions : sequence of int, or mapping of pair_id -> sequence of int, optional
        Target token positions (as ``patch_pairs``' ``position``) where the sender is
        patched (all of them in the same run): a sequence in every pair that has them
        aligned; a mapping gives each pair its own (a region's tokens in that pair), each
        refused before any forward when it is no aligned input position; default every
        aligned position.
    receiver_positions : sequence of int, optional
        Target token positions where the receiver is patched; default every position
        of the run (the start token included).
    readout : {"sentence", "logit_diff"}, default "sentence"
    batch_size : int, default 16

    Returns
    -------
    pandas.DataFrame
        ``PATH_COLUMNS``: ``pair_id``; ``run`` (``patched``, or the unpatched ``source``
        and ``target`` runs, whose ``sender``/``receiver`` are empty); ``sender`` and
        ``receiver`` (``site:layer[:head]``); ``alignment``; ``member`` and ``logprob``
        as for ``patch_pairs``. The path's effect is the patched run's ``logprob``
        minus the target run's.

    Examples
    --------
    Does head 1.0's output reach the read-out through head 2.3's queries?

    >>> table = path_patch(lm, pairs, sender=("head_out", 1, 0),
    ...                    receiver=("q", 2, 3))  # doctest: +SKIP
    >>> table[table["member"] == "target"].pivot(index="pair_id", columns="run",
    ...                                          values="logprob")  # doctest: +SKIP
    """
    if readout not in READOUTS:
        raise ProbingError(f"path_patch: readout must be one of {', '.join(READOUTS)}; "
                           f"got {readout!r}")
    if lm.kind != "causal":
        raise ProbingError("path_patch reads log-probabilities of a causal LM; got a masked LM")
    shape = model_shape(lm)
    sender, receiver = check_path(sender, receiver, shape)
    ids, wanted = pairs["pair_id"].tolist(), []

    def check(aligned):
        _check_receiver_positions(ids, aligned, receiver_positions)
        wanted.append(_sender_positions(positions, ids, aligned))

    runs = prepare_pairs(lm, pairs, [(sender.site, sender.layer)], batch_size, readout,
                         check=check)
    wanted = wanted[0]
    plain, patched = [], []
    with torch.inference_mode():
        for indices in plan_batches([len(x) for x in runs.t_inputs], batch_size=batch_size):
            run = _PathRun(lm, runs, indices, shape.head_dim)
            rows = run.patched(sender, receiver, wanted, receiver_positions)
            plain += plain_rows(lm, run.plain, "target", indices, runs)
            patched += rows
    unpatched = [(r[0], r[1], "", "", r[7], r[8], r[9]) for r in runs.source_rows + plain]
    return pd.DataFrame(unpatched + patched, columns=list(PATH_COLUMNS))


class _PathRun:
    """Steps 2 to 4 of the module docstring for one batch of targets."""

    def __init__(self, lm, runs, indices, head_dim):
        self.lm, self.runs, self.indices, self.head_dim = lm, runs, indices, head_dim
        self.inputs = [runs.t_inputs[i] for i in indices]
        self.use_positions = accepts_position_ids(lm.model)
        self.plain = None

    def _forward(self, edits):
        with edit_points(self.lm.model.base_model, edits):
            return RunBatch(self.lm, self.inputs, self.use_positions, keep=False)

    def patched(self, sender, receiver, wanted, receiver_positions):
        recorded, frozen = {}, frozen_points(sender, receiver)
        self.plain = self._forward({p: _keeper(recorded, p) for p in frozen})
        columns = self.plain.batch.columns
        edits = {p: _replacer(recorded[p]) for p in frozen}
        edits[(sender.site, sender.layer)] = self._sender_edit(sender, wanted, columns)
        point = (receiver.site, receiver.layer)
        edits[point] = _keeper(recorded, point)
        self._forward(edits)
        rows = self._receiver_rows(receiver_positions, columns)
        final = self._forward({point: _receiver_edit(recorded[point], rows,
                                                     receiver.slice(self.head_dim))})
        reads = read_copies(final.logits, final.batch.columns,
                            [self.runs.reads[i]["target"] for i in self.indices],
                            list(range(len(self.indices))), self.lm.device)
        out = []
        for r, i in enumerate(self.indices):
            base = (self.runs.ids[i], "patched", sender.label, receiver.label,
                    self.runs.aligned[i][2])
            out += [(*base, "source", reads[0][r]), (*base, "target", reads[1][r])]
        return out

    def _sender_edit(self, sender, wanted, columns):
        rows, cols, values = [], [], []
        for r, i in enumerate(self.indices):
            s_pos, t_pos, _ = self.runs.aligned[i]
            source = self.runs.recorded[(sender.site, sender.layer)][i]
            own = wanted.get(self.runs.ids[i], set()) if isinstance(wanted, dict) else wanted
            for s, t in zip(s_pos, t_pos, strict=True):
                if own is None or t in own:
                    rows.append(r)
                    cols.append(int(columns[r][t + 1]))  # +1: the start token
                    values.append(source[s + 1])
        units = sender.slice(self.head_dim)

        def edit(tensor):
            if not rows:
                return tensor
            out = tensor.clone()
            new = torch.stack(values).to(out.device, out.dtype)
            out[rows, cols, units] = new[:, units]
            return out
        return edit

    def _receiver_rows(self, receiver_positions, columns):
        """Per batch row, the columns where the receiver is patched (None: all)."""
        if receiver_positions is None:
            return None
        return [[int(columns[r][int(p) + 1]) for p in receiver_positions]
                for r in range(len(self.indices))]


def _keeper(recorded, point):
    def edit(tensor):
        recorded[point] = tensor
        return tensor
    return edit


def _replacer(value):
    return lambda tensor: value.to(tensor.dtype)


def _receiver_edit(value, rows, units):
    def edit(tensor):
        out = tensor.clone()
        if rows is None:
            out[..., units] = value[..., units].to(out.dtype)
            return out
        for r, cols in enumerate(rows):
            cols = torch.as_tensor(cols, device=out.device)
            out[r, cols, units] = value[r, cols, units].to(out.dtype)
        return out
    return edit
