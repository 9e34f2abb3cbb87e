"""The report's Methods section, written from what ran, never from boilerplate.

For an experiment folder it reads ``manifest.json`` (the paradigms with their designs
and references, the analyses with the options in use and the methods sentences of the
paradigm kinds they ran on) and ``history/`` (the models as they were loaded: exact
weights, file hash, dtype, device), so a cached rerun does not erase what the run that
computed the numbers loaded. For a single run folder (``probing run``, ``probe``,
``rsa``...) it reads that folder's ``manifest.json`` and the paradigm file it names.
Each function returns a list of HTML fragments.
"""

from __future__ import annotations

import html
from pathlib import Path

from probing.pipeline.experiment.registry import ANALYSES

__all__ = ["experiment_methods", "infer_kind", "model_sentence", "run_methods"]

_QUIET = ("batch_size",)  # options that change no number


def _e(text):
    return html.escape(str(text))


def model_sentence(record):
    """One model as a methods sentence: exact weights, their hash, dtype and device."""
    weights = record.get("weights") or f"loaded from {record.get('path', record.get('model'))}"
    sha = record.get("sha256")
    if isinstance(sha, dict):  # a folder: one hash per weight file
        sha = ", ".join(f"{name} {value[:16]}" for name, value in sha.items())
    elif sha:
        sha = f"{sha[:16]}"
    parts = [weights]
    if sha:
        parts.append(f"SHA-256 {sha}")
    if record.get("device"):
        parts.append(f"run on {record['device']}")
    return "; ".join(parts) + "."


def _design(p):
    design = p.get("design", {})
    bits = [f"{p['kind']} design"]
    if design.get("factors"):
        bits.append("factors " + "; ".join(f"{k} ({', '.join(map(str, v))})"
                                           for k, v in design["factors"].items()))
    if design.get("n_items"):
        bits.append(f"{design['n_items']} items")
    if design.get("n_conditions"):
        bits.append(f"{design['n_conditions']} conditions")
    counts = ", ".join(f"{n} stimuli with generation seed {s}" for s, n in p["n_stimuli"].items())
    return "; ".join(bits) + f"; {counts}"


def _loaded_models(history):
    """Model name -> the provenance record of the latest run that loaded it."""
    found = {}
    for record in history:
        found.update(record.get("models_loaded") or {})
    return found


def _options_text(analysis):
    given = {k: v for k, v in analysis["options"].items() if k not in _QUIET}
    text = ", ".join(f"{k}={v}" for k, v in given.items()) or "the defaults"
    resolved = analysis.get("resolved_options") or {}
    if analysis["seeds"] != [None]:
        text += f"; analysis seeds (random_state) {', '.join(map(str, analysis['seeds']))}"
    elif "random_state" in resolved:
        text += f"; random_state {resolved['random_state']}"
    return text


def experiment_methods(manifest, history, correction):
    """The Methods section of an experiment folder (see the module docstring).

    ``correction(analysis) -> str`` adds the multiple-comparison sentence of an analysis.
    """
    out = ["<h3>Paradigms</h3><ul>"]
    references = []
    for p in manifest["paradigms"]:
        out.append(f"<li><b>{_e(p['name'])}</b>: {_e(p['description'])} ({_e(_design(p))})."
                   + (f" Reference: {_e(p['reference'])}." if p.get("reference") else "")
                   + "</li>")
        references += [p["reference"]] if p.get("reference") else []
    out.append("</ul><h3>Models</h3><ul>")
    loaded = _loaded_models(history)
    for m in manifest["models"]:
        if m["reinitialize"]:
            what = (f"control model: the architecture of {m['reinitialize']} with randomly "
                    f"re-initialised weights (seed {m['seed']}).")
        elif m["name"] in loaded:
            what = model_sentence(loaded[m["name"]])
        else:
            what = f"{m['path']} (no recorded run loaded it: every step was cached or failed)."
        out.append(f"<li><b>{_e(m['name'])}</b>: {_e(what)}</li>")
    out.append("</ul><h3>Analyses</h3><ul>")
    for a in manifest["analyses"]:
        out.append(f"<li><b>{_e(a['name'])}</b> ({_e(a['kind'])}; {_e(', '.join(a['models']))} "
                   f"on {_e(', '.join(a['paradigms']))}): {_e(a['describe'])} Options: "
                   f"{_e(_options_text(a))}.{_e(correction(a))}</li>")
        references += a["references"]
    out.append("</ul>")
    if any(len(p["seeds"]) > 1 for p in manifest["paradigms"]):
        out.append("<p>Where a paradigm has several generation seeds, each seed's lexicon "
                   "draw is run separately and pooled tables report the mean across seeds "
                   "with their standard deviation, minimum and maximum.</p>")
    out.append("<h3>References</h3><ul>" + "".join(
        f"<li>{_e(r)}</li>" for r in dict.fromkeys(references)) + "</ul>")
    return out


def infer_kind(folder, command=()):
    """The analysis kind that wrote a run folder: the command's, else the kind whose
    report tables the folder holds."""
    by_command = {"run": "behaviour", "probe": "probe", "rsa": "rsa", "patch": "patch",
                  "mediate": "mediate", "localize": "localize", "lesion": "lesion"}
    for word in command[1:2]:
        if word in by_command and by_command[word] in ANALYSES:
            return by_command[word]
    present = {p.stem for p in Path(folder).glob("*.csv")}
    scores = {kind: len(present & set(entry.report)) for kind, entry in ANALYSES.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] else None


def _run_paradigm(manifest):
    from probing._core.errors import ProbingError
    from probing.paradigms import load_paradigm

    path = manifest.get("paradigm", {}).get("path")
    try:
        return load_paradigm(path) if path and Path(path).suffix in (".yaml", ".yml") else None
    except (ProbingError, OSError):
        return None


def run_methods(folder, manifest, kind):
    """The Methods section of a single run folder."""
    spec = _run_paradigm(manifest)
    paradigm = manifest.get("paradigm", {})
    kinds = [spec.kind] if spec else []
    name = spec.name if spec else Path(paradigm.get("path", "?")).stem
    text = f"{name}: {spec.description} ({spec.kind} design" if spec else f"{name} ("
    text += (f"; {manifest['n_stimuli']} stimuli" if "n_stimuli" in manifest else "")
    text += f"; generation seed {manifest.get('seed')}; file SHA-256 {paradigm.get('sha256', '')[:16]})."
    references = [spec.reference] if spec and spec.reference else []
    out = ["<h3>Paradigm</h3>", f"<p>{_e(text)}</p>", "<h3>Model</h3><ul>"]
    models = manifest.get("model") or {}
    models = {"model": models} if "source" in models or "weights" in models else models
    for label, record in models.items():
        if isinstance(record, dict):
            out.append(f"<li><b>{_e(record.get('model', label))}</b>: "
                       f"{_e(model_sentence(record))}</li>")
    out.append("</ul><h3>Analysis</h3>")
    options = ", ".join(f"{k}={v}" for k, v in (manifest.get("options") or {}).items()
                        if k not in _QUIET and v is not None)
    if kind is not None:
        describe, refs = ANALYSES[kind].methods(kinds)
        references += list(refs)
        out.append(f"<p>{_e(kind)}: {_e(describe)} Options: {_e(options)}.</p>")
    else:
        out.append(f"<p>Options: {_e(options)}.</p>")
    out.append("<h3>References</h3><ul>" + "".join(
        f"<li>{_e(r)}</li>" for r in dict.fromkeys(references)) + "</ul>")
    return out
