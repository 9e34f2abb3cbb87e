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


# --- one meaning per name, discovered (issue #23) ------------------------------------------

def _every_public_callable():
    """Every public callable of every module (its ``__all__``), once."""
    import pkgutil

    import probing

    seen = set()
    for info in pkgutil.walk_packages(probing.__path__, "probing."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if (callable(obj) and id(obj) not in seen
                    and getattr(obj, "__module__", "").startswith("probing")):
                seen.add(id(obj))
                yield f"{obj.__module__}.{attr}", obj


def _documented(obj):
    """``{parameter: (type, first line of its description)}`` from a numpydoc docstring."""
    import re

    doc = inspect.getdoc(obj) or ""
    section = re.search(r"^Parameters\n-+\n(.*?)(?=\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    lines = section.group(1).splitlines() if section else []
    out = {}
    for i, line in enumerate(lines):
        head = re.match(r"^(\*{0,2}[A-Za-z_][\w, ]*?)\s*:\s*(.+)$", line)
        if head:
            rest = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1][:1] == " " else ""
            out.update({name.strip().lstrip("*"): (head.group(2), rest)
                        for name in head.group(1).split(",")})
    return out


def _what(kind, text):
    """The kinds of thing a documented parameter is: a path, a column name, values per row,
    a flag, or one of a closed set of values (other types are not told apart: a table and
    an array of the same data are one meaning)."""
    import re

    found = set()
    found |= {"a file path"} if "path-like" in kind else set()
    found |= {"values per row"} if re.search(r"shape \(n_\w+,\)", kind) else set()
    found |= {"a column name"} if re.match(r"str\b", kind) and re.match(
        r"(the |a )?column\b", text, re.I) else set()
    found |= {"a flag"} if re.fullmatch(r"bool(, default \w+|, optional)?", kind) else set()
    choices = re.match(r"\{([^}]*)\}", kind)
    if choices:
        found.add(frozenset(re.findall(r"[\"']([^\"']+)[\"']", choices.group(1))))
    return found


#: Names with one meaning whose allowed values depend on the function: each analysis has
#: its own metrics (the `metric` column), intervals and tests (the `test` column).
ONE_MEANING_MANY_VALUES = {"metric", "interval", "test"}
#: Overloaded names not yet given one meaning each (docs/vocabulary.md says which).
NOT_YET_RENAMED = {"kind", "task", "ties"}


def _meanings_of_every_parameter():
    import collections

    uses = collections.defaultdict(lambda: collections.defaultdict(list))
    for where, obj in _every_public_callable():
        for name, (kind, text) in _documented(obj).items():
            uses[name]  # every documented name counts, classified or not
            for what in _what(kind, text):
                uses[name][what].append(where)
    return uses


def _two_meanings(whats):
    kinds = {w for w in whats if isinstance(w, str)}
    sets = [w for w in whats if not isinstance(w, str)]
    disjoint = any(not a & b for i, a in enumerate(sets) for b in sets[i + 1:])
    return len(kinds) + bool(sets) > 1 and bool(kinds) or disjoint


def test_no_parameter_name_has_two_meanings():
    # discovered, not listed: every public function's documented parameters, grouped by
    # name; a name that is a path in one place and a column name (a table, a flag, one of
    # a disjoint set of values) in another means two things
    uses = _meanings_of_every_parameter()
    assert len(uses) > 300  # the walk found the package's parameters
    clashes = {name: {str(sorted(w)) if not isinstance(w, str) else w: places[:2]
                      for w, places in whats.items()}
               for name, whats in uses.items()
               if name not in ONE_MEANING_MANY_VALUES | NOT_YET_RENAMED
               and _two_meanings(whats)}
    assert clashes == {}


def test_the_guard_finds_a_planted_second_meaning():
    def load(path, *, units=False):
        """Load.

        Parameters
        ----------
        path : path-like
        units : bool, default False
        """

    def table(units):
        """Table.

        Parameters
        ----------
        units : str
            Column of the units.
        """

    whats = {w for f in (load, table) for k, t in _documented(f).values() for w in _what(k, t)}
    assert whats >= {"a flag", "a column name", "a file path"}
    assert _two_meanings({"a flag", "a column name"})
    assert _two_meanings({frozenset({"causal", "masked"}), frozenset({"categorical"})})
    assert not _two_meanings({frozenset({"a", "b"}), frozenset({"b", "c"})})
    assert not _two_meanings({"a file path"})


def test_every_renamed_keyword_points_at_a_parameter_of_its_function():
    # discovered: each @renamed wrapper's new name is a parameter, its old one is not
    wrong = {}
    for where, obj in _every_public_callable():
        renames = getattr(obj, "__renamed__", {})
        target = getattr(obj, "__wrapped__", None) or obj
        names = set(_parameters(target)) | {f.name for f in getattr(
            target, "__dataclass_fields__", {}).values()}
        bad = {old: new for old, new in renames.items() if new not in names or old in names}
        wrong.update({where: bad} if bad else {})
    assert wrong == {}


def _renamed_calls():
    import pandas as pd

    from probing._core.locations import resolve_file
    from probing.causal import ablation_test, check_unit_table
    from probing.causal.cell_correction import sweep_correction
    from probing.interventions import Intervention
    from probing.rsa import build_model_rdm
    from probing.stats import fit_mixed_model

    rng = np.random.default_rng(0)
    units = pd.DataFrame({"layer": [1, 0], "site": "mlp_out", "unit": [3, 2]})
    table = pd.DataFrame({"item_id": np.repeat(np.arange(8), 2), "c": ["a", "b"] * 8})
    table["y"] = rng.normal(size=16) + (table["c"] == "a")
    pairs = table.rename(columns={"c": "layer"}).assign(pair_id=np.arange(16), effect=table["y"])
    factor = pd.DataFrame({"stimulus_id": list("abc"), "f": [1.0, 2.0, 4.0]})
    base = rng.normal(size=24)  # 24 items: no few-items warning
    null = base + rng.normal(size=(20, 24))
    return [
        (check_unit_table, (), {"units": units}, {"unit_table": units}, lambda r: r),
        (fit_mixed_model, (table,), {"outcome": "y", "fixed": ["c"], "groups": "item_id"},
         {"outcome": "y", "fixed": ["c"], "group_column": "item_id"}, lambda r: r),
        (sweep_correction, (pairs,), {"value": "effect", "groups": "item_id", "n_perm": 50},
         {"column": "effect", "group_column": "item_id", "n_perm": 50}, lambda r: r),
        (build_model_rdm, (factor,), {"factor": "f", "kind": "continuous"},
         {"factor": "f", "feature_type": "continuous"}, lambda r: r.values),
        (resolve_file, ("agreement_paper",), {"kind": "experiment"}, {"file_type": "experiment"},
         lambda r: r),
        (Intervention, (), {"layer": 0, "op": "resample", "sources": ("a b",), "seed": 3},
         {"layer": 0, "op": "resample", "sources": ("a b",), "random_state": 3}, lambda r: r),
        (ablation_test, (), {"baseline": base, "ablated": base - 1, "null_ablated": null,
                             "n_boot": 20},
         {"unablated": base, "ablated": base - 1, "null_ablated": null, "n_boot": 20},
         lambda r: r[["p_val"]]),
    ]


@pytest.mark.parametrize("case", range(7))
def test_keywords_renamed_for_one_meaning_still_work_with_a_warning(case):
    import pandas as pd

    func, args, old, new, value = _renamed_calls()[case]
    with pytest.warns(DeprecationWarning, match="is deprecated .* use '"):
        before = value(func(*args, **old))
    after = value(func(*args, **new))
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    else:
        np.testing.assert_equal(np.asarray(before, dtype=object), np.asarray(after, dtype=object))
