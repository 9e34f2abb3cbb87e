"""Route a spec to its generator or importer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from probing._core.errors import ProbingError, SpecError
from probing._core.paths import resolve_data_path
from probing.paradigms.alignment_options import check_alignment_fields
from probing.paradigms.generate.dialogue_fill import generate_dialogue
from probing.paradigms.generate.fill import SlotFiller
from probing.paradigms.generate.localizer_stimuli import generate_localizer
from probing.paradigms.generate.templated import (
    generate_factorial,
    generate_minimal_pairs,
    generate_rsa,
)
from probing.paradigms.importers import (
    read_blimp,
    read_conllu,
    read_fedorenko2010,
    read_syntaxgym,
    read_table_source,
)
from probing.paradigms.importers.human import HUMAN_ROLES, read_human_source
from probing.paradigms.importers.jsonl_dialogues import read_dialogue_jsonl
from probing.paradigms.importers.roles import renamed_roles
from probing.paradigms.lexicon import read_lexicon
from probing.paradigms.spec import _unfreeze

_TEMPLATE_GENERATORS = {
    "dialogue": generate_dialogue,
    "minimal_pairs": generate_minimal_pairs,
    "factorial": generate_factorial,
    "rsa": generate_rsa,
}


def generate_stimuli(spec, *, seed=None):
    """Generate (or import) the stimuli of a validated paradigm.

    Parameters
    ----------
    spec : ParadigmSpec
        A validated paradigm (see :func:`probing.paradigms.load_paradigm`).
    seed : int, optional
        Overrides the file's ``seed``. The same spec and seed give identical tables.

    Returns
    -------
    Stimuli
    """
    if seed is not None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ProbingError(f"seed: must be an integer >= 0, got {seed!r}")
        spec = dataclasses.replace(spec, seed=seed)
    if spec.source is not None:
        return _from_source(spec)
    folder = Path(spec.path).parent if spec.path else Path.cwd()
    lexicon = read_lexicon(resolve_data_path(spec.lexicon, base=folder))
    filler = SlotFiller(spec, lexicon, np.random.default_rng(spec.seed))
    if spec.kind == "localizer":
        return generate_localizer(spec, filler, lexicon)
    return _TEMPLATE_GENERATORS[spec.kind](spec, filler)


def _from_source(spec):
    source = spec.source
    path = resolve_data_path(source.path, base=Path(spec.path).parent if spec.path else Path.cwd())
    options = dict(source.options)
    if source.format == "blimp":
        stimuli = read_blimp(path, name=spec.name, phenomena=options.get("phenomena"),
                             limit_per_phenomenon=options.get("limit_per_phenomenon"))
    elif source.format == "syntaxgym":
        stimuli = read_syntaxgym(path, name=spec.name)
    elif source.format == "conllu":
        fields = options.get("fields") or spec.labels  # `labels:` names the label columns too
        stimuli = read_conllu(path, name=spec.name, limit=options.get("limit"),
                              **({"fields": tuple(fields)} if fields else {}))
    elif source.format == "paradigm":
        stimuli = _labels_from_paradigm(spec, path)
    elif source.format == "fedorenko2010":
        stimuli = read_fedorenko2010(path, name=spec.name, **options)
    elif source.format == "jsonl":
        stimuli = read_dialogue_jsonl(path, name=spec.name)
        stimuli = dataclasses.replace(stimuli, info={**stimuli.info, "agents": dict(spec.agents),
                                                     "generation_prompt": spec.generation_prompt})
    else:
        columns = renamed_roles(spec.path or source.path, spec.kind,
                                options.get("columns", {}), field="source.columns")
        read = read_human_source if spec.kind in HUMAN_ROLES else read_table_source
        stimuli = read(path, kind=spec.kind, columns=columns,
                       sep="\t" if source.format == "tsv" else ",", name=spec.name)
    extra = {"seed": spec.seed, **({"model_rdms": dict(spec.model_rdms)} if spec.model_rdms else {}),
             **({"mixed_test": spec.mixed_test} if spec.mixed_test else {}),
             **({"prediction_names": dict(spec.prediction_names)} if spec.prediction_names else {})}
    if spec.alignment:  # analysis options of human data, paths resolved against the file
        extra["alignment"] = alignment_fields(spec, path.parent)
    return dataclasses.replace(stimuli, paradigm=spec.name, kind=spec.kind,
                               predictions=stimuli.predictions + spec.predictions,
                               info={**stimuli.info, **extra})


def alignment_fields(spec, data_folder):
    """The paradigm's ``alignment:`` fields, a corpus path resolved against its file."""
    folder = Path(spec.path).parent if spec.path else data_folder

    def fail(field, message):
        raise SpecError(message, file=spec.path, field=f"alignment.{field}")

    return check_alignment_fields({k: _unfreeze(v) for k, v in spec.alignment}, kind=spec.kind,
                                  folder=folder, fail=fail)


def _labels_from_paradigm(spec, path):
    """Word labels from a template paradigm: its slot fillers and their lexicon features.

    For minimal pairs only the good members are kept: a label paradigm describes
    well-formed text.
    """
    from probing.paradigms.load import load_paradigm  # same package; avoids an import cycle

    inner_spec = load_paradigm(path)
    if inner_spec.source is not None:  # a chain of sources could loop back to itself
        raise SpecError(f"must name a template paradigm (one without source:); "
                        f"{Path(path).name} has a {inner_spec.source.format} source",
                        file=spec.path, field="source.path")
    inner = generate_stimuli(inner_spec, seed=spec.seed)
    table = inner.table
    if "role" in table:
        table = table[table["role"] == "good"].reset_index(drop=True)
    keep = set(table["stimulus_id"])
    words = inner.words[inner.words["stimulus_id"].isin(keep)].reset_index(drop=True)
    columns = ["stimulus_id", "word_index", "word", "char_start", "char_end", "slot"]
    unknown = [c for c in spec.labels if c not in words.columns]
    if unknown:
        raise SpecError(f"unknown label column(s) {unknown}; allowed: "
                        f"{', '.join(c for c in words.columns if c not in columns)}",
                        file=spec.path, field="labels")
    words = words[columns + [c for c in (spec.labels or words.columns) if c not in columns]]
    regions = inner.regions[inner.regions["stimulus_id"].isin(keep)].reset_index(drop=True)
    return dataclasses.replace(inner, table=table, regions=regions, words=words,
                               info={**inner.info, "label_columns": list(spec.labels)})
