from tests.models.conftest import make_lm, make_model, make_tokenizer, tokenizer_json  # noqa: F401
