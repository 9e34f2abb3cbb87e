"""One meaning per parameter name: renamed keywords work for one release, with a warning."""

import importlib
import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest

from probing._core.deprecation import renamed, renamed_fields
from probing._core.vocabulary import PARAMETERS, parameters_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "vocabulary.md"
PACKAGES = ("probing.rsa", "probing.stats", "probing.probes", "probing.behaviour",
            "probing.alignment", "probing.localize", "probing.causal")


def _public_callables():
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if callable(obj):
                yield f"{name}.{attr}", obj


def _parameters(obj):
    try:
        return inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return {}


def test_method_means_nothing_in_the_public_api():
    # `method` meant a comparison, a correction, an interval, an engine and a covariance
    offenders = [name for name, obj in _public_callables() if "method" in _parameters(obj)]
    assert offenders == []


def test_rsa_says_distance_and_stimulus_ids():
    # in RSA `metric` was the RDM distance and `conditions` the rows' stimulus ids
    offenders = [name for name, obj in _public_callables() if name.startswith("probing.rsa")
                 and {"metric", "conditions"} & set(_parameters(obj))]
    assert offenders == []


def _rdm_calls():
    from probing import rsa, stats

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4))
    ids = list("abcdef")
    model = rsa.compute_rdm(rng.normal(size=(6, 3)), stimulus_ids=ids)
    data = rsa.compute_rdm(X, stimulus_ids=ids)
    return [
        (rsa.compute_rdm, (X,), {"metric": "cosine", "conditions": ids},
         {"distance": "cosine", "stimulus_ids": ids}, lambda r: r.values),
        (rsa.compare_rdms, (data, model), {"method": "pearson"}, {"comparison": "pearson"},
         lambda r: r),
        (rsa.check_rdm, (data.values[0],), {"conditions": ids, "metric": "x"},
         {"stimulus_ids": ids, "distance": "x"}, lambda r: (r.values, r.distance)),
        (stats.correct_pvalues, ([0.01, 0.04],), {"method": "bonferroni"},
         {"correction": "bonferroni"}, lambda r: r),
        (stats.proportion_ci, (3, 8), {"method": "clopper_pearson"},
         {"interval": "clopper_pearson"}, lambda r: r),
        (rsa.estimate_noise_cov, (X,), {"method": "diag"}, {"covariance": "diag"}, lambda r: r),
    ]


@pytest.mark.parametrize("case", range(6))
def test_old_keywords_warn_and_give_the_same_result(case):
    func, args, old, new, value = _rdm_calls()[case]
    with pytest.warns(DeprecationWarning, match="is deprecated .* use '"):
        before = value(func(*args, **old))
    np.testing.assert_equal(before, value(func(*args, **new)))


def test_renamed_fields_keep_the_old_attribute_and_keyword():
    from probing.rsa import RDMs

    with pytest.warns(DeprecationWarning, match="'conditions' is deprecated"):
        rdms = RDMs([1.0, 2.0, 3.0], conditions="abc")
    with pytest.warns(DeprecationWarning, match="'metric' is deprecated .* use 'distance'"):
        assert rdms.metric == rdms.distance == "custom"
    assert rdms.stimulus_ids == ("a", "b", "c")


def test_old_and_new_name_together_is_an_error():
    @renamed(method="comparison")
    def f(*, comparison="spearman"):
        return comparison

    with pytest.raises(TypeError, match="give 'comparison' only"):
        f(method="a", comparison="b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(comparison="b") == "b"  # the new name never warns


def test_renamed_fields_on_a_plain_dataclass():
    import dataclasses

    @renamed_fields(method="interval")
    @dataclasses.dataclass(frozen=True)
    class Result:
        interval: str = "percentile"

    with pytest.warns(DeprecationWarning):
        assert Result(method="bca").interval == "bca"


def test_cli_old_flags_are_hidden_and_still_work(capsys):
    from probing.cli.main import build_parser

    parser = build_parser()
    rsa = parser.parse_args(["rsa", "x.yaml", "--metric", "cosine", "--method", "pearson"])
    assert (rsa.distance, rsa.comparison) == ("cosine", "pearson")
    assert "use --distance" in capsys.readouterr().err
    text = parser._subparsers._group_actions[0].choices["rsa"].format_help()
    assert "--distance" in text and "--comparison" in text
    assert "--metric" not in text and "--method" not in text


def test_the_docs_hold_the_parameter_names():
    assert parameters_markdown() in DOC.read_text(encoding="utf-8"), (
        "docs/vocabulary.md is out of date: paste probing._core.vocabulary.parameters_markdown()")
    assert {"distance", "comparison", "correction", "interval", "engine", "covariance",
            "stimulus_ids", "reduction"} <= set(PARAMETERS)


def test_shared_parameter_text_is_filled_and_used():
    # DOCDICT's text is written once; a docstring that asks for it gets it (no "%(" left)
    import importlib
    import inspect
    import pkgutil

    import probing
    from probing.commands import DOCDICT, fill_doc

    unfilled, used = [], set()
    for info in pkgutil.walk_packages(probing.__path__, "probing."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            doc = inspect.getdoc(obj) if callable(obj) else None
            if doc and getattr(obj, "__module__", None) == info.name and obj is not fill_doc:
                unfilled += [f"{info.name}.{name}"] * ("%(" in doc and ")s" in doc)
                used |= {key for key, text in DOCDICT.items() if text.splitlines()[0] in doc}
    assert unfilled == []
    assert {"lm"} <= used
