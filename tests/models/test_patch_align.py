"""Members aligned by word, never by token index: a planted split mismatch.

"The cats sat on the mat." and "The cat sats on the mat." have as many tokens under the
tiny GPT-2 tokenizer (``The Ġc at s Ġs at ...`` against ``The Ġc at Ġs at s ...``) but
split their words differently, the mayor/mayors ... hesitates/hesitate case of the
agreement real case. A patch at a target word must take the source's same word.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.errors import ProbingError
from probing.models.patch_align import align_pair
from probing.models.patch_runs import patch_pairs
from probing.models.token_alignment import encode_texts

SOURCE, TARGET = "The cats sat on the mat.", "The cat sats on the mat."
PAIR = pd.DataFrame({"pair_id": ["m"], "source": [SOURCE], "target": [TARGET]})


def _words(encoded, text):
    """Word number of each token (its first character's whitespace word), by hand."""
    starts = [i for i, c in enumerate(text) if c != " " and (i == 0 or text[i - 1] == " ")]
    return [sum(s <= a for s in starts) - 1 for a, _ in encoded.spans]


def _ends_of_each_word(encoded, text):
    """``(word, first|last) -> token index``."""
    words = _words(encoded, text)
    out = {}
    for w in set(words):
        inside = [i for i, x in enumerate(words) if x == w]
        out[(w, "first")], out[(w, "last")] = inside[0], inside[-1]
    return out


def _logprobs(lm, encoded):
    """Plain transformers forward: log-softmax at every input (start + all but last)."""
    ids = torch.tensor([[lm.start_token_id, *encoded.token_ids[:-1]]])
    with torch.no_grad():
        return lm.model(input_ids=ids).logits[0].log_softmax(-1).numpy()


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def test_planted_pair_has_equal_token_counts_but_different_words(gpt2):
    s, t = encode_texts(gpt2.tokenizer, [SOURCE, TARGET])
    assert len(s.token_ids) == len(t.token_ids)
    assert _words(s, SOURCE) != _words(t, TARGET)


def test_patch_at_a_word_takes_the_source_same_word(gpt2):
    # At the last layer a patch at target position p only replaces the logits that
    # predict token p + 1, by the source's logits at the aligned position: an exact
    # identity against plain forwards. Aligned by token index (the old rule) it fails.
    s, t = encode_texts(gpt2.tokenizer, [SOURCE, TARGET])
    n_layers = gpt2.model.config.n_layer
    table = patch_pairs(gpt2, PAIR, layers=[n_layers], site="resid_post")
    patched = table[(table["run"] == "patched") & (table["member"] == "target")]
    assert set(patched["alignment"]) == {"word"}
    lp_s, lp_t = _logprobs(gpt2, s), _logprobs(gpt2, t)
    ids = t.token_ids
    plain = sum(lp_t[k, ids[k]] for k in range(len(ids)))
    s_ends, t_ends = _ends_of_each_word(s, SOURCE), _ends_of_each_word(t, TARGET)
    t_words, checked = _words(t, TARGET), 0
    for p in range(len(ids) - 1):
        word = t_words[p]
        first_t, first_s = t_ends[(word, "first")], s_ends[(word, "first")]
        offset, last_s = p - first_t, s_ends[(word, "last")]
        # by hand: a token after the same token ids in both members' word stands for the
        # source token at its offset; else a word's last (then first) token for the other's
        same = first_s + offset <= last_s and all(
            s.token_ids[first_s + j] == ids[first_t + j] for j in range(offset + 1))
        if same:
            q = first_s + offset
        elif p == t_ends[(word, "last")] and not all(  # unless the source's last is taken
                s.token_ids[first_s + j] == ids[first_t + j] for j in range(last_s - first_s + 1)):
            q = last_s
        else:
            continue
        want = plain - lp_t[p + 1, ids[p + 1]] + lp_s[q + 1, ids[p + 1]]
        got = patched.loc[patched["position"] == p, "logprob"]
        assert len(got) == 1 and got.iloc[0] == pytest.approx(want, abs=1e-9)
        checked += p != q
    assert checked >= 2  # words where the token index and the word disagree


def test_source_tokens_are_not_read_on_a_differently_split_target(gpt2):
    # the sentence read-out sums the other member's tokens on a run: meaningless when its
    # tokens are other words at the same indices, so it is NaN, never a number
    table = patch_pairs(gpt2, PAIR, layers=[1], site="resid_post")
    on_target = table[(table["run"] != "source") & (table["member"] == "source")]
    assert on_target["logprob"].isna().all()


def test_pair_with_different_word_counts_is_refused(gpt2):
    bad = pd.DataFrame({"pair_id": ["x"], "source": ["The cat sat."],
                        "target": ["The cat sat down there today."]})
    with pytest.raises(ProbingError, match=r"pair 'x': the members have 3 and 6 words"):
        patch_pairs(gpt2, bad)


def test_answer_read_out_is_a_logit_difference(gpt2):
    # readout="logit_diff": the log-probabilities of each member's answer token at the
    # position predicting it; their difference is the logit difference of a plain
    # forward. The members have 11 and 9 tokens: the sentence read-out cannot use them.
    source, target = "The dogs were barking.", "The dog was barking."
    pair = pd.DataFrame({"pair_id": ["d"], "source": [source], "target": [target]})
    s, t = encode_texts(gpt2.tokenizer, [source, target])
    assert len(s.token_ids) != len(t.token_ids)
    table = patch_pairs(gpt2, pair, layers=[1, 2], site="resid_post", readout="logit_diff")
    assert np.isfinite(table["logprob"]).all()
    # the answer word is were/was (the last that differs): " w" and " was" differ at once
    a_s, a_t = _ends_of_each_word(s, source)[(2, "first")], _ends_of_each_word(t, target)[
        (2, "first")]
    for run, enc, a in (("source", s, a_s), ("target", t, a_t)):
        ids = torch.tensor([[gpt2.start_token_id, *enc.token_ids[:-1]]])
        with torch.no_grad():
            logits = gpt2.model(input_ids=ids).logits[0].numpy()
        want = logits[a, s.token_ids[a_s]] - logits[a, t.token_ids[a_t]]
        read = table[table["run"] == run].set_index("member")["logprob"]
        assert read["source"] - read["target"] == pytest.approx(float(want), abs=1e-9)
    # patching the whole last layer at the answer position gives the read-out of the
    # source's logits at the aligned source position
    q = align_pair(s, t, source, target).to_source(a_t - 1)
    ids = torch.tensor([[gpt2.start_token_id, *s.token_ids[:-1]]])
    with torch.no_grad():
        logits = gpt2.model(input_ids=ids).logits[0].numpy()
    want = logits[q + 1, s.token_ids[a_s]] - logits[q + 1, t.token_ids[a_t]]
    last = table[(table["run"] == "patched") & (table["layer"] == 2)
                 & (table["position"] == a_t - 1)].set_index("member")["logprob"]
    assert last["source"] - last["target"] == pytest.approx(float(want), abs=1e-9)
