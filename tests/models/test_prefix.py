"""Shared-prefix scoring equals plain scoring; batching helpers keep every index once."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.models import score_tokens
from probing.models.batching import pad_sequences, plan_batches
from probing.models.prefix import common_prefix_length, plan_chunks

from ._helpers import CAUSAL

GROUPED = pd.DataFrame(
    {
        "stimulus_id": [f"s{i}" for i in range(9)],
        "pair_id": ["a", "a", "b", "b", "b", "c", "d", "d", "e"],
        "text": [
            "The keys to the cabinet are on the table.",
            "The keys to the cabinet is on the table.",
            "The cat sat",  # a prefix of the next member
            "The cat sat on the mat.",
            "The cat sat on the mats.",
            "Dogs bark.",  # a group of one
            "Who should Derek hug after shocking Richard?",
            "Who should Derek hug after shocking Richard?",  # identical members
            "A naïve café, isn't it?",
        ],
    }
)


@pytest.mark.parametrize("batch_size", [1, 2, 32])
@pytest.mark.parametrize("arch", CAUSAL)
def test_prefix_sharing_equals_plain_scoring(make_lm, arch, batch_size):
    lm = make_lm(arch)
    plain = score_tokens(lm, GROUPED, batch_size=batch_size)
    shared = score_tokens(lm, GROUPED, batch_size=batch_size, share_prefixes=True)
    scores = ["logprob", "surprisal", "surprisal_bits", "logprob_eow"]
    pd.testing.assert_frame_equal(plain.drop(columns=scores), shared.drop(columns=scores))
    np.testing.assert_allclose(shared["logprob"], plain["logprob"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(shared["logprob_eow"], plain["logprob_eow"], rtol=0, atol=1e-8)


def test_prefix_sharing_groups_by_item_id(make_lm):
    lm = make_lm("gpt2")
    table = GROUPED.rename(columns={"pair_id": "item_id"})
    shared = score_tokens(lm, table, share_prefixes=True)
    np.testing.assert_allclose(
        shared["logprob"], score_tokens(lm, table)["logprob"], rtol=0, atol=1e-8
    )


def test_prefix_sharing_needs_a_group_column(make_lm):
    with pytest.raises(ProbingError, match="pair_id"):
        score_tokens(make_lm("gpt2"), GROUPED.drop(columns="pair_id"), share_prefixes=True)


def test_prefix_sharing_is_for_causal_models(make_lm):
    with pytest.raises(ProbingError, match="causal"):
        score_tokens(make_lm("bert"), GROUPED, share_prefixes=True)


@pytest.mark.parametrize(
    "sequences, expected",
    [
        ([[1, 2, 3], [1, 2, 4]], 2),
        ([[1, 2], [1, 2, 3]], 2),
        ([[1, 2, 3]], 3),
        ([[5], [6]], 0),
    ],
    ids=["diverge", "prefix-of-other", "single", "none"],
)
def test_common_prefix_length(sequences, expected):
    assert common_prefix_length(sequences) == expected


@pytest.mark.parametrize("cache_tokens", [1, 10, 30, 10**6])
def test_plan_chunks_bounds_the_cache(rng, cache_tokens):
    prefix = rng.integers(1, 9, size=17)
    chunks = plan_chunks(prefix, cache_tokens=cache_tokens)
    assert sorted(g for chunk in chunks for g in chunk) == list(range(17))
    for chunk in chunks:
        assert len(chunk) == 1 or len(chunk) * max(prefix[g] for g in chunk) <= cache_tokens


def test_small_cache_chunks_give_the_same_scores(make_lm, monkeypatch):
    lm = make_lm("llama")
    expected = score_tokens(lm, GROUPED, share_prefixes=True)["logprob"]
    monkeypatch.setattr("probing.models.prefix.CACHE_TOKENS", 8)
    got = score_tokens(lm, GROUPED, share_prefixes=True)["logprob"]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("budget", [None, 7, 20])
@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_plan_batches_covers_each_index_once(rng, batch_size, budget):
    lengths = rng.integers(1, 10, size=23)
    batches = plan_batches(lengths, batch_size=batch_size, max_tokens_per_batch=budget)
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    for batch in batches:
        assert len(batch) <= batch_size
        assert len(batch) == 1 or budget is None or len(batch) * lengths[batch].max() <= budget


def test_plan_batches_avoiding_padding_keeps_half_full_batches(rng):
    lengths = rng.integers(1, 6, size=40)
    batches = plan_batches(lengths, batch_size=8, avoid_padding=True)
    assert sorted(np.concatenate(batches).tolist()) == list(range(40))
    for batch in batches:
        assert len(batch) <= 8
        if lengths[batch].min() < lengths[batch].max():  # padded only when under half full
            assert len(batch) - np.sum(lengths[batch] < lengths[batch].max()) < 4

    def padding(plan):
        return sum(int(np.sum(lengths[b].max() - lengths[b])) for b in plan)

    assert padding(batches) < padding(plan_batches(lengths, batch_size=8))


def test_pad_sequences_right_and_offsets():
    batch = pad_sequences([[5, 6, 7], [8]], pad_id=0, position_offsets=[0, 4])
    assert batch.input_ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch.position_ids[1, 0].item() == 4
    assert [c.tolist() for c in batch.columns] == [[0, 1, 2], [0]]
