"""Path patching against a hand-written hook reference on the tiny GPT-2."""

import contextlib

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models.patch_runs import patch_pairs
from probing.models.path_patching import (
    PATH_COLUMNS,
    Component,
    frozen_points,
    path_patch,
)

PAIRS = pd.DataFrame({"pair_id": ["ab", "ba"],
                      "source": ["The cat sat on the mat.", "The mat sat on the cat."],
                      "target": ["The mat sat on the cat.", "The cat sat on the mat."]})


@contextlib.contextmanager
def _hooks(*pairs):
    handles = []
    try:
        for module, hook, pre in pairs:
            handles.append(module.register_forward_pre_hook(hook) if pre else
                           module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _run(lm, text, *hooks):
    """Prediction inputs of ``text`` through the model with ``hooks``; the summed
    log-probability of its tokens."""
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad(), _hooks(*hooks):
        logp = lm.model(torch.tensor([[lm.start_token_id, *ids[:-1]]])).logits[0].log_softmax(-1)
    return logp[torch.arange(len(ids)), torch.tensor(ids)].sum().item()


def _reference(lm, source, target, head, q_head, positions):
    """Sender head ``head`` of block 1, receiver the queries of head ``q_head`` of block 2."""
    blocks, d = lm.model.transformer.h, lm.model.config.n_embd
    head_dim = d // lm.model.config.n_head
    sender = slice(head * head_dim, (head + 1) * head_dim)
    receiver = slice(q_head * head_dim, (q_head + 1) * head_dim)
    seen = {}
    # pass 1: the source's sender and the target's plain MLP output of block 1
    _run(lm, source, (blocks[0].attn.c_proj, lambda m, a: seen.update(src=a[0]), True))
    _run(lm, target, (blocks[0].mlp, lambda m, a, o: seen.update(mlp=o), False))

    def patch_sender(m, args):
        x = args[0].clone()
        for p in positions:
            x[0, p + 1, sender] = seen["src"][0, p + 1, sender]
        return (x,)

    def keep_q(m, args, output):
        seen["q"] = output[..., :d].clone()

    # pass 2: sender patched, MLP frozen, the receiver's queries recorded
    _run(lm, target, (blocks[0].attn.c_proj, patch_sender, True),
         (blocks[0].mlp, lambda m, a, o: seen["mlp"], False), (blocks[1].attn.c_attn, keep_q, False))

    def patch_q(m, args, output):
        out = output.clone()
        out[..., receiver] = seen["q"][..., receiver]
        return out

    return _run(lm, target, (blocks[1].attn.c_attn, patch_q, False))


def _patched(table):
    rows = table[(table["run"] == "patched") & (table["member"] == "target")]
    return rows.set_index("pair_id")["logprob"]


def test_path_patch_equals_a_hand_written_hook_reference(make_lm):
    lm = make_lm("gpt2")
    table = path_patch(lm, PAIRS, sender=("head_out", 1, 1), receiver=("q", 2, 0),
                       positions=(1, 2, 5))
    assert list(table.columns) == list(PATH_COLUMNS)
    got = _patched(table)
    plain = table[(table["run"] == "target") & (table["member"] == "target")].set_index(
        "pair_id")["logprob"]
    for pid, source, target in PAIRS.itertuples(index=False):
        want = _reference(lm, source, target, 1, 0, (1, 2, 5))
        assert got[pid] == pytest.approx(want, abs=1e-8)
        assert abs(got[pid] - plain[pid]) > 1e-6  # the path carries an effect


def test_a_path_without_components_between_equals_activation_patching(make_lm):
    # the MLP of block 1 reaches block 2's input only directly: the path through the
    # whole residual stream there is the activation patch of mlp_out 1 itself
    lm = make_lm("gpt2")
    path = path_patch(lm, PAIRS, sender=("mlp_out", 1), receiver=("resid_pre", 2),
                      positions=(3,))
    sweep = patch_pairs(lm, PAIRS, layers=[1], site="mlp_out", positions={"ab": [3], "ba": [3]})
    np.testing.assert_allclose(_patched(path), _patched(sweep)[_patched(path).index],
                               rtol=0, atol=1e-10)


def test_frozen_points_and_bad_components(make_lm):
    assert frozen_points(Component("mlp_out", 1), Component("resid_post", 2)) == [
        ("attn_out", 2), ("mlp_out", 2)]
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match="receiver q:1:0 does not come after sender"):
        path_patch(lm, PAIRS, sender=("head_out", 1, 0), receiver=("q", 1, 0))
    with pytest.raises(ProbingError, match="sender site must be one of head_out, attn_out"):
        path_patch(lm, PAIRS, sender=("q", 1, 0), receiver=("q", 2, 0))
    with pytest.raises(ProbingError, match="pair 'ab': receiver position 9 is no aligned input"):
        path_patch(lm, PAIRS, sender=("head_out", 1, 0), receiver=("q", 2, 0),
                   receiver_positions=(9,))


def _reference_to(lm, source, target, receiver, positions, head=0):
    """Receiver ``mlp`` (block 2's MLP output; sender: head ``head`` of block 1, block 1's
    MLP and block 2's attention frozen) or ``head`` (head ``head``'s output in block 2;
    sender: block 1's MLP output, nothing between to freeze)."""
    blocks, d = lm.model.transformer.h, lm.model.config.n_embd
    units = slice(head * (d // lm.model.config.n_head), (head + 1) * (d // lm.model.config.n_head))
    seen = {}
    sender = (blocks[0].attn.c_proj, True) if receiver == "mlp" else (blocks[0].mlp, False)
    into = (blocks[1].mlp, False) if receiver == "mlp" else (blocks[1].attn.c_proj, True)

    def keep(name):
        return lambda m, a, *o: seen.update({name: (a[0] if not o else o[0]).clone()})

    _run(lm, source, (*sender[:1], keep("src"), sender[1]))
    _run(lm, target, (blocks[0].mlp, keep("mlp"), False),
         (blocks[1].attn.c_proj, keep("attn"), False))

    def patch_sender(m, args, *output):
        x = (args[0] if not output else output[0]).clone()
        for p in positions:
            x[0, p + 1, units if receiver == "mlp" else slice(None)] = seen["src"][
                0, p + 1, units if receiver == "mlp" else slice(None)]
        return (x,) if not output else x

    frozen = [(blocks[0].mlp, lambda m, a, o: seen["mlp"], False),
              (blocks[1].attn.c_proj, lambda m, a, o: seen["attn"], False)]
    _run(lm, target, (*sender[:1], patch_sender, sender[1]),
         *(frozen if receiver == "mlp" else []), (*into[:1], keep("into"), into[1]))

    def patch_into(m, args, *output):
        x = (args[0] if not output else output[0]).clone()
        cover = slice(None) if receiver == "mlp" else units
        x[..., cover] = seen["into"][..., cover]
        return (x,) if not output else x

    return _run(lm, target, (*into[:1], patch_into, into[1]))


@pytest.mark.parametrize("sender,receiver,kind", [
    (("head_out", 1, 1), ("mlp_out", 2), "mlp"),
    (("mlp_out", 1), ("head_out", 2, 1), "head"),
], ids=["head-to-mlp", "mlp-to-head"])
def test_mlp_and_head_receivers_equal_a_hook_reference(make_lm, sender, receiver, kind):
    lm = make_lm("gpt2")
    table = path_patch(lm, PAIRS, sender=sender, receiver=receiver, positions=(1, 2, 5))
    got = _patched(table)
    plain = table[(table["run"] == "target") & (table["member"] == "target")].set_index(
        "pair_id")["logprob"]
    for pid, source, target in PAIRS.itertuples(index=False):
        want = _reference_to(lm, source, target, kind, (1, 2, 5), head=1)
        assert got[pid] == pytest.approx(want, abs=1e-8)
        assert abs(got[pid] - plain[pid]) > 1e-6


def test_positions_per_pair_equal_one_call_per_pair(make_lm):
    lm = make_lm("llama")
    own = {"ab": [1, 2], "ba": [4]}
    table = path_patch(lm, PAIRS, sender=("head_out", 1, 0), receiver=("v", 2, 1),
                       positions=own)
    for pid, positions in own.items():
        one = path_patch(lm, PAIRS[PAIRS["pair_id"] == pid], sender=("head_out", 1, 0),
                         receiver=("v", 2, 1), positions=positions)
        assert _patched(table)[pid] == pytest.approx(_patched(one)[pid], abs=1e-12)
    with pytest.raises(ProbingError, match="pair 'ba': sender position 99 is no aligned"):
        path_patch(lm, PAIRS, sender=("head_out", 1, 0), receiver=("v", 2, 1),
                   positions={"ab": [1], "ba": [99]})
    with pytest.raises(ProbingError, match=r"receiver mlp_out:1 does not come after sender "
                                           r"mlp_out:1"):
        path_patch(lm, PAIRS, sender=("mlp_out", 1), receiver=("mlp_out", 1))
