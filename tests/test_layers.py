"""One layer-spec parser (probing._core.layers) behind every command and resolver."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing._core.layers import parse_layers, resolve_layers


@pytest.mark.parametrize(("spec", "expected"), [
    ("all", [0, 1, 2, 3, 4]), ("0,2,-1", [0, 2, 4]), (" -1 , 0", [4, 0]), (3, [3]),
    (np.int64(2), [2]), ([1, -2], [1, 3]), ((0,), [0]),
], ids=["all", "text", "spaces", "int", "numpy", "list", "tuple"])
def test_specs_resolve_like_hidden_states(spec, expected):
    assert resolve_layers(spec, 4) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("3,3", r"layers repeat: \[3, 3\]"), ("1-3", "integers like 0,6,-1; got '1-3'"),
    ("", "got ''"), ([], "got \\[\\]"), ([1.5], "got \\[1.5\\]"), (True, "got True"),
], ids=["repeat", "range", "empty", "none", "float", "bool"])
def test_bad_syntax_fails_without_a_model(spec, message):
    with pytest.raises(ProbingError, match=message):
        parse_layers(spec)


def test_a_negative_and_a_positive_naming_one_layer_repeat():
    with pytest.raises(ProbingError, match=r"layers repeat: \[4, 4\]"):
        resolve_layers("4,-1", 4)


def test_range_is_checked_against_the_site():
    with pytest.raises(ProbingError, match=r"layers \[0\] out of range for site 'mlp_out': "
                                           r"allowed 1..4"):
        resolve_layers("0", 4, lowest=1, where=" for site 'mlp_out'")
    assert resolve_layers("all", 2, lowest=1) == [1, 2]


def _message(check, spec):
    with pytest.raises(ProbingError) as raised:
        check(spec)
    return str(raised.value)


@pytest.mark.parametrize("spec", ["3,3", "x", "0,,1"])
def test_the_cli_check_and_the_model_resolver_say_the_same(spec):
    from probing._core.layers import parse_layers as check_layers_syntax
    from probing.models.site_activations import resolve_layers as model_resolver

    assert _message(check_layers_syntax, spec) == _message(lambda s: model_resolver(s, 4), spec)
