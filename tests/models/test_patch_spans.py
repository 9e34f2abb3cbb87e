"""Span (whole-region) patching: every position of a span patched in one copy, checked
against a plain ``register_forward_hook`` reference; all positions at once restore the
source's read-out."""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models.patch_align import align_pair
from probing.models.patch_runs import patch_pairs
from probing.models.token_alignment import encode_texts

# "mat"/"cat" and "keys"/"key" may split differently: the alignment pairs the tokens
PAIRS = pd.DataFrame({"pair_id": ["ab", "keys"],
                      "source": ["The cat sat on the mat.",
                                 "The keys to the cabinet are on the table."],
                      "target": ["The mat sat on the cat.",
                                 "The key to the cabinets are on the table."]})


def _module(lm, arch, site, layer):
    blocks = lm.model.transformer.h if arch == "gpt2" else lm.model.model.layers
    return blocks[layer - 1] if site == "resid_post" else blocks[layer - 1].mlp


def _inputs(lm, text):
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids, torch.tensor([[lm.start_token_id, *ids[:-1]]])


def _aligned(lm, source, target):
    s, t = encode_texts(lm.tokenizer, [source, target])
    a = align_pair(s, t, source, target)
    return dict(zip(a.target, a.source, strict=True))


def _reference(lm, arch, site, layer, source, target, span):
    """The target's summed log-probability with every position of ``span`` (target token
    indices) overwritten, at the module's output, by the source's aligned position."""
    module = _module(lm, arch, site, layer)
    to_source, seen = _aligned(lm, source, target), {}

    def tensor(output):
        return output[0] if isinstance(output, tuple) else output

    def keep(m, args, output):
        seen["source"] = tensor(output).clone()

    def overwrite(m, args, output):
        hidden = tensor(output).clone()
        for t in span:  # +1: the start token
            hidden[0, t + 1] = seen["source"][0, to_source[t] + 1]
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    with torch.no_grad():
        handle = module.register_forward_hook(keep)
        lm.model(_inputs(lm, source)[1])
        handle.remove()
        handle = module.register_forward_hook(overwrite)
        ids, inputs = _inputs(lm, target)
        logp = lm.model(inputs).logits[0].log_softmax(-1)
        handle.remove()
    return logp[torch.arange(len(ids)), torch.tensor(ids)].sum().item()


def _patched(table):
    rows = table[(table["run"] == "patched") & (table["member"] == "target")]
    return rows.set_index(["pair_id", "position"])["logprob"]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("site", ["resid_post", "mlp_out"])
def test_span_equals_a_forward_hook_reference(make_lm, arch, site):
    lm = make_lm(arch)
    spans = {}
    for pid, source, target in PAIRS.itertuples(index=False):
        inputs = sorted(_aligned(lm, source, target))
        spans[pid] = [tuple(inputs[1:4]), tuple(inputs[-3:]), inputs[-2]]  # 2 spans, 1 token
    table = patch_pairs(lm, PAIRS, layers=[1], site=site, positions=spans, copies_per_forward=3)
    got = _patched(table)
    assert len(got) == 6
    for pid, source, target in PAIRS.itertuples(index=False):
        plain = table[(table["run"] == "target") & (table["member"] == "target")
                      & (table["pair_id"] == pid)]["logprob"].item()
        for span in spans[pid]:
            cells = span if isinstance(span, tuple) else (span,)
            want = _reference(lm, arch, site, 1, source, target, cells)
            assert got[(pid, span)] == pytest.approx(want, abs=1e-9)
            assert abs(want - plain) > 1e-6, (pid, span)  # the span changes the run


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_every_position_at_once_restores_the_source_run(make_lm, arch):
    # the residual stream at every input position is the source's: the run is the source's
    lm = make_lm(arch)
    pairs = PAIRS.iloc[:1]  # its words split alike: the source run reads the target's tokens
    pid, source, target = next(pairs.itertuples(index=False))
    every = tuple(sorted(_aligned(lm, source, target)))
    table = patch_pairs(lm, pairs, layers=[0, 1], positions={pid: [every]})
    clean = table[(table["run"] == "source")].set_index("member")["logprob"]
    for layer in (0, 1):
        rows = table[(table["run"] == "patched") & (table["layer"] == layer)]
        np.testing.assert_allclose(rows.set_index("member")["logprob"][clean.index], clean,
                                   rtol=0, atol=1e-10)


@pytest.mark.parametrize("span,message", [
    ((), "a span of positions must be non-empty"),
    ((1, 1), r"without repeats; got \[1, 1\]"),
    ((1, 99), "position 99 is not an aligned input position"),
])
def test_bad_spans(make_lm, span, message):
    lm = make_lm("gpt2")
    with pytest.raises(ProbingError, match=message):
        patch_pairs(lm, PAIRS.iloc[:1], layers=[1], positions={"ab": [span]})
