"""``probing run``: one paradigm on one model, written to a run folder in one piece.

The folder is assembled under a temporary name beside its destination and renamed into
place at the end, so an error or an interrupt never leaves a half-written run folder
that a later step could trust.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from probing._core.defaults import MIXED_TESTS, N_BOOT
from probing._core.defaults import TIES as DEFAULT_TIES
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, check_writable, write_frame
from probing._core.locations import resolve_file
from probing._core.values import RENDERINGS, TIE_RULES
from probing._core.vocabulary import add_identity
from probing.behaviour import build_sentence_scores
from probing.paradigms.alignment_options import resolve_alignment_options
from probing.pipeline._loading import resolve_model
from probing.pipeline.alignment import ALIGNMENT_KINDS, alignment_notes, alignment_tables
from probing.pipeline.judgements import (
    check_judgement_options,
    check_prompt_model,
    judgement_notes,
    judgement_tables,
)
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.measures import behaviour_tables
from probing.pipeline.sanity import SANITY_PAIRS, check_sanity, sanity_table
from probing.pipeline.sources import load_source

REDUCTIONS = ("sum", "mean")


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Options of a run; all of them are recorded in the manifest.

    ``reduction`` is how a sentence's token log-probabilities are combined for pair
    comparisons (``sum``: the full-sentence log-probability, BLiMP's own rule; ``mean``:
    per-token average). ``ties`` says how a pair with equal scores counts (default ``half``).
    ``mixed_test`` is the factorial mixed model's test (default: the paradigm's
    ``mixed_test``, else ``auto``; :func:`probing.stats.fit_mixed_model`). ``layers``
    (``"all"``, ``"0,6,-1"``; ratings and reading-times paradigms only) adds alignment
    rows for each layer's logit-lens read-out (:mod:`probing.models.lens`).
    ``judgement`` ``both`` adds prompted judgements of minimal pairs (Hu & Levy, 2023)
    in ``prompt_style`` (``plain``, ``chat`` or ``both``) for ``prompt_task``
    (``yes_no``, ``forced_choice`` or ``both``); see :mod:`probing.pipeline.judgements`.
    ``rendering`` is how a dialogue paradigm's messages become text: ``model`` (the
    model's chat template) or ``plain`` (``Sender: text`` lines, for base models).
    ``alignment`` holds the analysis options of ratings and reading-times paradigms given
    explicitly (:mod:`probing.paradigms.alignment_options`); they override the paradigm
    file's ``alignment:`` fields.
    """

    batch_size: int = 32
    seed: int | None = None
    reduction: str = "sum"
    ties: str = DEFAULT_TIES
    n_boot: int = N_BOOT
    correction: str = "holm"
    truncate: bool = False
    stride: int | None = None
    layers: str | None = None
    judgement: str = "direct"
    prompt_style: str = "both"
    prompt_task: str = "both"
    rendering: str = "model"
    alignment: tuple = ()  # ((field, value), ...): ratings / reading-times analysis options
    mixed_test: str | None = None  # None: the paradigm's ``mixed_test``, else MIXED_TEST

    def __post_init__(self):
        check_judgement_options(self)
        resolve_alignment_options({}, self.alignment)  # checks every field and value
        if self.rendering not in RENDERINGS:
            raise ProbingError(f"rendering {self.rendering!r}: allowed {', '.join(RENDERINGS)}")
        if self.mixed_test is not None and self.mixed_test not in MIXED_TESTS:
            raise ProbingError(f"mixed_test {self.mixed_test!r}: allowed {', '.join(MIXED_TESTS)}")
        if self.reduction not in REDUCTIONS:
            raise ProbingError(f"reduction {self.reduction!r}: allowed {', '.join(REDUCTIONS)}")
        if self.ties not in TIE_RULES:
            raise ProbingError(f"ties {self.ties!r}: allowed {', '.join(TIE_RULES)}")
        if self.batch_size < 1:
            raise ProbingError(f"batch_size must be >= 1, got {self.batch_size}")


def check_run_folder(out, *, force=False):
    """Refuse to overwrite an existing non-empty folder unless ``force``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ProbingError(f"--out {out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise ProbingError(f"--out {out}: folder exists and is not empty (use --force to replace it)")
    if not out.parent.exists():
        raise ProbingError(f"--out {out}: parent folder {out.parent} does not exist")
    check_writable(out.parent)


def run_paradigm(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Generate a paradigm's stimuli, score them with ``lm`` and write the run folder.

    Parameters
    ----------
    paradigm_path : str or path-like
        Paradigm file (or a shipped paradigm's name, ``"agreement_simple"``), or a
        stimuli table (``.csv``, ``.tsv``, ``.parquet`` with ``stimulus_id, text``; see
        :func:`probing.stimuli.read_plain_table`).
    lm : probing.models.LanguageModel or callable
        A loaded model (see :func:`probing.models.load_model`), or a zero-argument loader
        called once the stimuli are read or generated.
    out : str or path-like
        Run folder to create.
    options : RunOptions
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        Every table written, keyed by file stem (``stimuli``, ``tokens``, ``scores``, ...).
    """
    from probing.models import score_tokens
    from probing.models.chat import render_for_model
    from probing.models.lens import resolve_lens_layers

    options = options or RunOptions()
    out = Path(out)
    check_run_folder(out, force=force)
    started = now()
    paradigm_path = resolve_file(paradigm_path)  # a shipped paradigm by name, as in the CLI
    stimuli, seed = load_source(paradigm_path, seed=options.seed)
    check_layers_kind(options.layers, stimuli.kind)
    check_judgement_options(options, stimuli.kind)
    lm = resolve_model(lm)
    stimuli = render_for_model(stimuli, lm, rendering=options.rendering)
    layers = None if options.layers is None else resolve_lens_layers(lm, options.layers)
    if options.judgement != "direct":
        check_prompt_model(lm, options)
    # a diagnostic only: truncation keeps a short-context model from failing here
    n_sane = check_sanity(build_sentence_scores(score_tokens(lm, sanity_table(), truncate=True)),
                          model_name=lm.name)
    tokens = score_tokens(lm, stimuli.table[["stimulus_id", "text"]],
                          batch_size=options.batch_size, truncate=options.truncate,
                          stride=options.stride, progress=None)  # a bar with ETA when run from a terminal
    tables = {"stimuli": stimuli.table, "tokens": tokens,
              **behaviour_tables(stimuli, tokens, options=options, random_state=seed)}
    if stimuli.kind in ALIGNMENT_KINDS:
        lens = None if layers is None else score_tokens(
            lm, stimuli.table[["stimulus_id", "text"]], batch_size=options.batch_size,
            truncate=options.truncate, stride=options.stride, layers=layers, progress=None)
        tables.update(alignment_tables(stimuli, tokens, options=options, model=lm.name,
                                       lens_tokens=lens))
    if options.judgement != "direct":
        tables.update(judgement_tables(lm, tables["pairs"], options=options))
    tables = {name: add_identity(table, model=lm.name, paradigm=stimuli.paradigm)
              for name, table in tables.items()}
    manifest = build_manifest(paradigm_path=paradigm_path, seed=seed,
                              options=dataclasses.asdict(options),
                              model_provenance=lm.provenance, started=started, argv=argv)
    manifest["n_stimuli"] = len(stimuli.table)
    manifest["notes"] = _notes(stimuli)
    if "model" in tables and "note" in tables["model"]:  # models the data cannot fit
        manifest["notes"]["models_not_fitted"] = [
            {"region": r, "reason": n} for r, n in zip(tables["model"]["region"], tables["model"]["note"],
                                                       strict=True) if n]
    if stimuli.kind in ALIGNMENT_KINDS:
        manifest["notes"]["alignment"] = alignment_notes(stimuli, options)
        if layers is not None:
            manifest["notes"]["alignment"]["layers"] = layers
            manifest["notes"]["alignment"]["readout"] = LENS_READOUT
    if options.judgement != "direct":
        manifest["notes"]["judgements"] = judgement_notes(lm, options)
    if "rendering" in stimuli.info:  # dialogues: the template and how it was applied
        manifest["notes"]["rendering"] = stimuli.info["rendering"]
    manifest["notes"]["truncated_stimuli"] = list(tokens.attrs.get("scoring", {}).get("truncated", []))
    manifest["notes"]["windowed_stimuli"] = list(tokens.attrs.get("scoring", {}).get("windowed", []))
    manifest["sanity_pairs_correct"] = f"{n_sane}/{len(SANITY_PAIRS)}"
    write_run_folder(out, tables, manifest)
    return tables


LENS_READOUT = ("logit lens: unembed(final_norm(resid_post L)), a read-out of layer L, not a "
                "prediction the model makes")


def check_layers_kind(layers, kind):
    """``--layers`` (logit-lens read-outs) is for ratings and reading-times paradigms only."""
    if layers is not None and kind not in ALIGNMENT_KINDS:
        raise ProbingError(f"--layers: logit-lens read-outs are for paradigms of kind "
                           f"{' or '.join(ALIGNMENT_KINDS)}; this paradigm is {kind!r}")


def _notes(stimuli):
    notes = {}
    if "identical" in stimuli.table:
        n_identical = int(stimuli.table.drop_duplicates("pair_id")["identical"].sum())
        notes["identical_pairs_excluded"] = n_identical
    return notes


def write_run_folder(out, tables, manifest):
    """Write CSVs and ``manifest.json`` to a temporary folder, then move it to ``out``."""
    with atomic_folder(out) as tmp:
        for name, table in tables.items():
            write_frame(table, tmp / f"{name}.csv", ".csv")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
