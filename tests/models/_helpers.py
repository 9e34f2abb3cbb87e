"""Shared test data and the plain PyTorch reference loops the adapter is checked against."""

import numpy as np
import torch

SENTENCES = [
    "The cat sat on the mat.",
    "The cats sat on the mats.",
    "Who should Derek hug after shocking Richard?",
    "Who should Derek hug Richard after shocking?",
    "She said that the authors have written many books.",
    "The keys to the cabinet is on the table.",
    "A naïve café, isn't it?",
    "Dogs bark.",
    "The horse raced past the barn fell.",
    "Many people believe that the earth is round, and they're right.",
]

ARCHITECTURES = ("gpt2", "llama", "bert")
CAUSAL = ("gpt2", "llama")


def reference_causal(model, tokenizer, start_id, text):
    """log p(t_i | start, t_<i), one unpadded sentence at a time."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = model(torch.tensor([[start_id, *ids]])).logits[0].log_softmax(-1)
    return np.array([logp[i, token].item() for i, token in enumerate(ids)])


def reference_pll(model, tokenizer, text, pll):
    """Pseudo-log-likelihood terms, one masked copy at a time."""
    encoding = tokenizer(text, add_special_tokens=False)
    ids, words = encoding["input_ids"], encoding.word_ids()
    values = []
    for i, token in enumerate(ids):
        framed = [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]
        masked = [i] + (
            [j for j in range(i + 1, len(ids)) if words[j] == words[i]] if pll == "word_l2r" else []
        )
        for j in masked:
            framed[j + 1] = tokenizer.mask_token_id
        with torch.no_grad():
            logp = model(torch.tensor([framed])).logits[0, i + 1].log_softmax(-1)
        values.append(logp[token].item())
    return np.array(values)
