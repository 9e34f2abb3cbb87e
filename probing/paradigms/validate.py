"""Turn a parsed paradigm file into a :class:`ParadigmSpec`, or say exactly what is wrong.

Each rule raises :class:`SpecError` naming the file, the line, the field path and what
is allowed. Checks that need the lexicon (feature names) happen here too, so that a
file that validates can be generated.
"""

from __future__ import annotations

from probing._core.defaults import MIXED_TESTS
from probing._core.errors import SpecError
from probing._core.paths import resolve_data_path
from probing.paradigms._checker import Checker, string_list
from probing.paradigms.alignment_options import check_alignment_fields
from probing.paradigms.dialogue import check_agents, check_generation_prompt, check_messages
from probing.paradigms.feasibility import check_cells, check_values
from probing.paradigms.formula import parse_formula
from probing.paradigms.generate.fill import slot_order
from probing.paradigms.importers.fedorenko2010 import CASES
from probing.paradigms.lexicon import read_lexicon
from probing.paradigms.spec import (
    LENGTH_UNITS,
    SCHEMA_VERSION,
    Constraint,
    Contrast,
    Match,
    ParadigmSpec,
    Region,
    Slot,
    Source,
    freeze,
)
from probing.paradigms.texts import check_texts, placeholders
from probing.stimuli import KINDS

COMMON = ("name", "version", "kind", "description", "reference", "seed")
TEMPLATE_FIELDS = {
    "minimal_pairs": ("lexicon", "factors", "template", "slots", "contrast", "phenomenon",
                      "items_per_cell", "match"),
    "factorial": ("lexicon", "factors", "slots", "regions", "items_per_cell", "predictions", "match",
                  "mixed_test"),
    "rsa": ("lexicon", "factors", "template", "slots", "items_per_cell", "model_rdms", "match"),
    "localizer": ("lexicon", "templates", "slots", "conditions", "items_per_cell"),
    "labels": (),
    "ratings": (),
    "reading_times": (),
    "dialogue": ("lexicon", "factors", "slots", "agents", "messages", "generation_prompt",
                 "items_per_cell", "match"),
}
REQUIRED = {
    "minimal_pairs": ("lexicon", "template", "slots", "contrast", "items_per_cell"),
    "factorial": ("lexicon", "factors", "regions", "items_per_cell"),
    "rsa": ("lexicon", "factors", "template", "slots", "items_per_cell"),
    "localizer": ("lexicon", "templates", "slots", "conditions", "items_per_cell"),
    "labels": ("source",),
    "ratings": ("source",),
    "reading_times": ("source",),
    "dialogue": ("lexicon", "slots", "messages", "items_per_cell"),
}
SOURCE_FORMATS = {
    "minimal_pairs": ("blimp", "csv", "tsv"),
    "factorial": ("syntaxgym", "csv", "tsv"),
    "rsa": ("csv", "tsv"),
    "localizer": ("csv", "tsv", "fedorenko2010"),
    "labels": ("conllu", "paradigm"),
    "ratings": ("csv", "tsv"),
    "reading_times": ("csv", "tsv"),
    "dialogue": ("jsonl",),
}
SOURCE_FIELDS = {
    "blimp": ("phenomena", "limit_per_phenomenon"),
    "syntaxgym": (),
    "csv": ("columns",),
    "tsv": ("columns",),
    "conllu": ("limit", "fields"),
    "paradigm": (),
    "fedorenko2010": ("case",),
    "jsonl": (),
}
# Formats whose path is a folder of files rather than one file.
FOLDER_FORMATS = ("blimp", "fedorenko2010")
SOURCE_EXTRA = {"minimal_pairs": ("phenomenon",), "factorial": ("predictions", "mixed_test"),
                "labels": ("labels",), "rsa": ("model_rdms", "factors"), "localizer": (),
                "ratings": ("alignment",), "reading_times": ("alignment",),
                "dialogue": ("agents", "generation_prompt")}
LOCALIZER_CONDITIONS = ("sentences", "word_lists", "nonwords", "jabberwocky")


def check_paradigm(data, lines, path=None):
    """Validate a parsed paradigm mapping and build its spec.

    Parameters
    ----------
    data : dict
        The parsed YAML mapping.
    lines : probing.paradigms.yamlio.Located
        Field path -> line, for error messages.
    path : str, optional
        The file it came from; relative paths in it resolve against its folder.

    Returns
    -------
    ParadigmSpec
    """
    ck = Checker(data, lines, path)
    kind = _check_header(ck)
    from_source = "source" in data
    allowed = COMMON + (("source",) + SOURCE_EXTRA[kind] if from_source else TEMPLATE_FIELDS[kind])
    for field in data:
        if field not in allowed:
            ck.fail(field, f"unknown field for kind {kind!r}"
                    f"{' with a source' if from_source else ''}; allowed: {', '.join(allowed)}")
    required = ("source",) if from_source else REQUIRED[kind]
    for field in required:
        if field not in data:
            ck.fail(field, f"missing required field for kind {kind!r}")
    fields = {k: data[k] for k in ("description", "reference") if k in data}
    for key, value in fields.items():
        ck.typed(key, value, str, "a string")
    if "seed" in data:
        fields["seed"] = ck.positive_int("seed", data["seed"], minimum=0)
    fields.update(_check_source(ck, kind) if from_source else _check_design(ck, kind))
    if "mixed_test" in data:
        fields["mixed_test"] = _check_mixed_test(ck)
    return ParadigmSpec(name=data["name"], kind=kind, version=data["version"], path=path, **fields)


def _check_mixed_test(ck):
    value = ck.data["mixed_test"]
    if value not in MIXED_TESTS:
        ck.fail("mixed_test", f"must be one of {', '.join(MIXED_TESTS)}, got {value!r}")
    return value


def _check_header(ck):
    for field in ("name", "version", "kind"):
        if field not in ck.data:
            ck.fail(field, "missing required field")
    ck.name("name", ck.data["name"])
    if ck.data["version"] != SCHEMA_VERSION:
        ck.fail("version", f"unsupported version {ck.data['version']!r}; allowed: {SCHEMA_VERSION}")
    kind = ck.data["kind"]
    if kind not in KINDS:
        ck.fail("kind", f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    return kind


def _check_source(ck, kind):
    src = ck.typed("source", ck.data["source"], dict, "a mapping with format and path")
    fmt = src.get("format")
    if fmt not in SOURCE_FORMATS[kind]:
        ck.fail("source.format", f"{fmt!r} is not a source for kind {kind!r}; allowed: "
                f"{', '.join(SOURCE_FORMATS[kind])}")
    if "path" not in src:
        ck.fail("source.path", "missing required field")
    ck.existing_path("source.path", src["path"])
    if fmt not in FOLDER_FORMATS and not resolve_data_path(src["path"], base=ck.folder).is_file():
        ck.fail("source.path", f"{src['path']!r} is not a file; format {fmt!r} reads one file")
    options = {k: v for k, v in src.items() if k not in ("format", "path")}
    for key in options:
        if key not in SOURCE_FIELDS[fmt]:
            ck.fail(f"source.{key}", f"unknown option for format {fmt!r}; allowed: "
                    f"{', '.join(SOURCE_FIELDS[fmt]) or 'none'}")
        if key in ("limit", "limit_per_phenomenon"):
            ck.positive_int(f"source.{key}", options[key])
        if key == "case" and options[key] not in CASES:
            ck.fail("source.case", f"must be one of {', '.join(CASES)}, got {options[key]!r}")
    if fmt == "paradigm":
        _check_inner_paradigm(ck, src["path"])
    fields = {"source": Source(fmt, src["path"], freeze(options))}
    if "phenomenon" in ck.data:
        fields["phenomenon"] = ck.name("phenomenon", ck.data["phenomenon"])
    if "predictions" in ck.data:
        fields["predictions"], fields["prediction_names"] = _check_predictions(ck, None, None)
    if "labels" in ck.data:
        fields["labels"] = tuple(string_list(ck, "labels"))
    if "factors" in ck.data:
        fields["factors"] = _check_factors(ck)
    if "model_rdms" in ck.data:
        fields["model_rdms"] = _check_model_rdms(ck, fields.get("factors", ()))
    if kind == "dialogue":
        fields["agents"] = check_agents(ck)
        fields["generation_prompt"] = check_generation_prompt(ck)
    if "alignment" in ck.data:
        given = ck.typed("alignment", ck.data["alignment"], dict, "a mapping of analysis options")
        check_alignment_fields(given, kind=ck.data["kind"], folder=ck.folder,
                               fail=lambda field, message: ck.fail(f"alignment.{field}", message))
        fields["alignment"] = freeze(given)
    return fields


def _check_design(ck, kind):
    lexicon = read_lexicon(resolve_data_path(ck.existing_path("lexicon", ck.data["lexicon"]),
                                             base=ck.folder))
    fields = {"lexicon": ck.data["lexicon"], "factors": _check_factors(ck)}
    fields["slots"] = _check_slots(ck, lexicon, fields["factors"])
    slot_names = [s.name for s in fields["slots"]]
    if "template" in ck.data:
        fields["template"] = _check_template(ck, "template", slot_names)
    if "templates" in ck.data:
        fields["templates"] = tuple(_check_template(ck, f"templates.{i}", slot_names, partial=True)
                                    for i, _ in enumerate(string_list(ck, "templates")))
    fields["items_per_cell"] = ck.positive_int("items_per_cell", ck.data["items_per_cell"])
    if "contrast" in ck.data:
        fields["contrast"] = _check_contrast(ck, lexicon, slot_names)
    if "phenomenon" in ck.data:
        fields["phenomenon"] = ck.name("phenomenon", ck.data["phenomenon"])
    if "match" in ck.data:
        fields["match"] = _check_match(ck, lexicon, slot_names)
    if kind == "factorial":
        fields["regions"] = _check_regions(ck, fields["factors"], slot_names)
        fields["predictions"], fields["prediction_names"] = _check_predictions(
            ck, fields["regions"], fields["factors"])
    if "model_rdms" in ck.data:
        fields["model_rdms"] = _check_model_rdms(ck, fields["factors"])
    if "conditions" in ck.data:
        fields["conditions"] = _check_localizer_conditions(ck)
    if kind == "dialogue":
        fields["agents"] = check_agents(ck)
        fields["messages"] = check_messages(ck, fields["factors"], slot_names, fields["agents"])
        fields["generation_prompt"] = check_generation_prompt(ck)
    check_values(ck, fields["slots"], lexicon, fields["factors"])
    check_cells(ck, ParadigmSpec(ck.data["name"], kind, factors=fields["factors"],
                                 slots=fields["slots"], items_per_cell=fields["items_per_cell"],
                                 path=ck.path), lexicon)
    return fields


def _check_factors(ck):
    factors = ck.typed("factors", ck.data.get("factors", {}), dict, "a mapping factor: [levels]")
    for name, levels in factors.items():
        field = f"factors.{name}"
        ck.name(field, name)
        ck.typed(field, levels, list, "a list of levels")
        for level in levels:
            ck.name(field, level)
        if len(levels) < 2 or len(set(levels)) != len(levels):
            ck.fail(field, f"needs at least 2 distinct levels, got {levels!r}")
    return tuple((name, tuple(levels)) for name, levels in factors.items())


def _check_slots(ck, lexicon, factors):
    slots = ck.typed("slots", ck.data.get("slots", {}), dict, "a mapping slot: {feature: value}")
    factor_names = [f for f, _ in factors]
    out = []
    for name, spec in slots.items():
        ck.name(f"slots.{name}", name)
        spec = ck.typed(f"slots.{name}", spec, dict, "a mapping feature: value")
        if "pos" not in spec:
            ck.fail(f"slots.{name}", "every slot needs a 'pos' constraint")
        constraints = tuple(_check_constraint(ck, f"slots.{name}.{feature}", feature, value,
                                              lexicon, factor_names, list(slots))
                            for feature, value in spec.items())
        out.append(Slot(name, constraints))
    try:
        slot_order(ParadigmSpec("x", "rsa", slots=tuple(out)))
    except SpecError as err:
        ck.fail("slots", err.message)
    return tuple(out)


def _check_constraint(ck, field, feature, value, lexicon, factor_names, slot_names):
    if feature not in lexicon.features:
        ck.fail(field, f"{feature!r} is not a column of the lexicon {lexicon.path}; "
                f"allowed: {', '.join(lexicon.features)}")
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in factor_names:
            ck.fail(field, f"{value!r} names no factor; allowed: "
                    f"{', '.join('$' + f for f in factor_names) or 'none declared'}")
        return Constraint(feature, "factor", value[1:])
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("same_as", "differs_from", "not"):
            ck.fail(field, "a mapping constraint must be {same_as: SLOT}, {differs_from: SLOT} "
                    "or {not: VALUE or [VALUES]}")
        how, other = next(iter(value.items()))
        if how == "not":
            return Constraint(feature, "not", _excluded(ck, f"{field}.not", other))
        if other not in slot_names or other == field.split(".")[1]:
            ck.fail(f"{field}.{how}", f"{other!r} is not another slot; allowed: "
                    f"{', '.join(s for s in slot_names if s != field.split('.')[1])}")
        return Constraint(feature, how, other)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return Constraint(feature, "is", tuple(value))
    if isinstance(value, str):
        return Constraint(feature, "is", value)
    ck.fail(field, "must be a value, a list of values, $factor, {same_as: SLOT}, "
            f"{{differs_from: SLOT}} or {{not: VALUES}}; got {value!r}")


def _excluded(ck, field, value):
    """The values a ``{not: ...}`` constraint excludes: one value or a non-empty list."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v
                                                             for v in values):
        ck.fail(field, f"must be a value or a non-empty list of values; got {value!r}")
    return tuple(values)


def _check_template(ck, field, slot_names, partial=False):
    template = ck.typed(field, ck.data[field] if "." not in field else
                        ck.data["templates"][int(field.split(".")[1])], str, "a string")
    used = placeholders(ck, field, template)
    for name in used:
        if name not in slot_names:
            ck.fail(field, f"placeholder {{{name}}} names no slot; allowed: {', '.join(slot_names)}")
    unused = set(slot_names) - set(used)
    if unused and not partial:
        ck.fail(field, f"slot(s) {sorted(unused)} are declared but not used in the template")
    return template


def _check_contrast(ck, lexicon, slot_names):
    c = ck.typed("contrast", ck.data["contrast"], dict, "a mapping with slot, feature, keep")
    for key in c:
        if key not in ("slot", "feature", "keep"):
            ck.fail(f"contrast.{key}", "unknown field; allowed: slot, feature, keep")
    if c.get("slot") not in slot_names:
        ck.fail("contrast.slot", f"{c.get('slot')!r} is not a slot; allowed: {', '.join(slot_names)}")
    keep = ck.typed("contrast.keep", c.get("keep", ["lemma"]), list, "a list of lexicon columns")
    for i, feature in enumerate([c.get("feature"), *keep]):
        if feature not in lexicon.features:
            where = "contrast.feature" if i == 0 else "contrast.keep"
            ck.fail(where, f"{feature!r} is not a lexicon column; allowed: {', '.join(lexicon.features)}")
    return Contrast(c["slot"], c["feature"], tuple(keep))


def _check_match(ck, lexicon, slot_names):
    m = ck.typed("match", ck.data["match"], dict, "a mapping {length: words|chars, tolerance: N}")
    for key in m:
        if key not in ("length", "tolerance", "frequency"):
            ck.fail(f"match.{key}", "unknown field; allowed: length, tolerance, frequency")
    if "length" not in m and "frequency" not in m:
        ck.fail("match", "needs length: words|chars, frequency: {slot: tolerance}, or both")
    if "length" in m and m["length"] not in LENGTH_UNITS:
        ck.fail("match.length", f"{m.get('length')!r} is not allowed; allowed: {', '.join(LENGTH_UNITS)}")
    tolerance = ck.positive_int("match.tolerance", m.get("tolerance", 0), minimum=0)
    return Match(m.get("length"), tolerance, _check_frequency(ck, m, lexicon, slot_names))


def _check_frequency(ck, m, lexicon, slot_names):
    if "frequency" not in m:
        return ()
    spec = ck.typed("match.frequency", m["frequency"], dict, "a mapping slot: tolerance (Zipf units)")
    if not spec:
        ck.fail("match.frequency", "must name at least one slot")
    if "zipf" not in lexicon.entries.columns:
        ck.fail("match.frequency", f"the lexicon {lexicon.path} has no 'zipf' column (word "
                "frequency on the Zipf scale, e.g. wordfreq's zipf_frequency)")
    for slot, tol in spec.items():
        if slot not in slot_names:
            ck.fail(f"match.frequency.{slot}", f"{slot!r} is not a slot; allowed: {', '.join(slot_names)}")
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
            ck.fail(f"match.frequency.{slot}", f"must be a number >= 0 (Zipf units), got {tol!r}")
    return tuple((slot, float(tol)) for slot, tol in spec.items())


def _check_regions(ck, factors, slot_names):
    regions = ck.typed("regions", ck.data["regions"], list, "a list of {name: text} entries")
    out, names = [], []
    for i, entry in enumerate(regions):
        field = f"regions.{i}"
        if not isinstance(entry, dict) or len(entry) != 1:
            ck.fail(field, "each region is one 'name: text' or 'name: {level: text, ...}' entry")
        name, texts = next(iter(entry.items()))
        ck.name(field, name)
        if name in names:
            ck.fail(field, f"region {name!r} is declared twice")
        names.append(name)
        out.append(Region(name, check_texts(ck, f"{field}.{name}", texts, factors, slot_names)))
    return tuple(out)


def _check_predictions(ck, regions, factors):
    """The formulas, and the names of those written ``{name, formula}``."""
    if "predictions" not in ck.data:
        return (), ()
    formulas, named = _prediction_entries(ck)
    conditions = set(ParadigmSpec("x", "factorial", factors=factors).conditions_of_factors) if factors else None
    names = [r.name for r in regions] if regions else None
    for i, text in enumerate(formulas):
        try:
            formula = parse_formula(text)
        except SpecError as err:
            ck.fail(f"predictions.{i}", err.message)
        for region, condition in formula.references:
            if conditions is not None and condition not in conditions:
                ck.fail(f"predictions.{i}", f"condition {condition!r} is not in the design; "
                        f"allowed: {', '.join(sorted(conditions))}")
            if names is not None and not (region in names or isinstance(region, int)
                                          and 1 <= region <= len(names)):
                ck.fail(f"predictions.{i}", f"region {region!r} is not in the design; allowed: "
                        f"{', '.join(names)} or 1..{len(names)}")
    return tuple(formulas), named


def _prediction_entries(ck):
    """Formulas, and ((formula, name), ...) for entries written ``{name: N, formula: F}``."""
    entries = ck.typed("predictions", ck.data["predictions"], list, "a list")
    if not entries:
        ck.fail("predictions", "must not be empty")
    formulas, named = [], []
    for i, entry in enumerate(entries):
        if isinstance(entry, dict):
            if set(entry) != {"name", "formula"}:
                ck.fail(f"predictions.{i}", "a named prediction is {name: NAME, formula: FORMULA}; "
                        f"got the keys {', '.join(map(str, entry))}")
            ck.name(f"predictions.{i}.name", entry["name"])
            ck.typed(f"predictions.{i}.formula", entry["formula"], str, "a string")
            named.append((entry["formula"], entry["name"]))
            entry = entry["formula"]
        ck.typed(f"predictions.{i}", entry, str, "a formula string or {name, formula}")
        formulas.append(entry)
    if len({n for _, n in named}) < len(named):
        ck.fail("predictions", "two predictions share a name; names must be unique")
    return formulas, tuple(named)


def _check_model_rdms(ck, factors):
    rdms = ck.typed("model_rdms", ck.data["model_rdms"], dict, "a mapping name: {factor: F}")
    factor_names = [f for f, _ in factors]
    out = []
    for name, spec in rdms.items():
        field = f"model_rdms.{name}"
        if not isinstance(spec, dict) or set(spec) != {"factor"} or spec["factor"] not in factor_names:
            ck.fail(field, f"must be {{factor: F}} with F one of: {', '.join(factor_names)}")
        out.append((name, spec["factor"]))
    return tuple(out)


def _check_localizer_conditions(ck):
    conditions = string_list(ck, "conditions")
    for i, cond in enumerate(conditions):
        if cond not in LOCALIZER_CONDITIONS:
            ck.fail(f"conditions.{i}", f"{cond!r} is not a localizer condition; allowed: "
                    f"{', '.join(LOCALIZER_CONDITIONS)}")
    if "sentences" not in conditions or len(set(conditions)) < 2:
        ck.fail("conditions", "needs 'sentences' and at least one control condition")
    return tuple(dict.fromkeys(conditions))


def _check_inner_paradigm(ck, path):
    """A paradigm read for its labels is validated too (its errors name its own file)."""
    from probing.paradigms.yamlio import read_yaml  # avoids a cycle: load imports this module

    data, lines = read_yaml(resolve_data_path(path, base=ck.folder))
    if data.get("kind") == "labels":
        ck.fail("source.path", f"{path!r} is a labels paradigm; read labels from a template "
                "paradigm (minimal_pairs, factorial, rsa, localizer)")
    check_paradigm(data, lines, str(resolve_data_path(path, base=ck.folder)))
