"""Reuse the adapter tests' tiny random models (built from configs, offline)."""

from tests.models.conftest import make_lm, make_model, make_tokenizer, tokenizer_json  # noqa: F401
