"""``probing report``: one self-contained HTML page from an experiment's results folder
or from any single run folder.

Everything comes from the folder alone (``manifest.json``, ``history/``, the step
folders' tables and figures): a Methods section written from what ran
(:mod:`probing.pipeline.experiment.methods`), results tables with intervals and
corrected p-values, figures embedded as base64 PNG (no network needed) and the
provenance: every recorded run with its command, times, models and devices, and each
step's state now (a table edited by hand shows as ``changed``). A small inline script marks each figure ``data-rendered`` once the
browser has decoded it, which is what the headless-browser test reads.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.io import read_run_table, write_text_atomic
from probing.pipeline.experiment.history import load_history, producers
from probing.pipeline.experiment.methods import experiment_methods, infer_kind, run_methods
from probing.pipeline.experiment.plan import step_state
from probing.pipeline.experiment.registry import ANALYSES

__all__ = ["build_report", "write_report"]

MAX_ROWS = 200
_STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1.5em}
td,th{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:right}
th{background:#f4f4f4}figure{margin:1em 0}figcaption{font-size:.9em;color:#555}
img{max-width:100%}code{background:#f4f4f4;padding:0 .2em}"""
_SCRIPT = """window.addEventListener('load',function(){var n=0;
document.querySelectorAll('img').forEach(function(i){var ok=i.complete&&i.naturalWidth>0;
i.setAttribute('data-rendered',ok?'yes':'no');if(ok){n++;}});
document.body.setAttribute('data-figures-rendered',String(n));});"""


def write_report(folder):
    """Write ``folder/report.html`` and return its path.

    Parameters
    ----------
    folder : str or path-like
        A results folder written by ``probing experiment``, or the folder of one run
        (``probing run``, ``probe``, ``rsa``..., or one step of an experiment).

    Returns
    -------
    pathlib.Path
    """
    folder = Path(folder)
    page = build_report(folder)
    write_text_atomic(folder / "report.html", page)  # the umask's mode: a page to share
    return folder / "report.html"


def build_report(folder):
    """The report page as one HTML string (see the module docstring)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        raise ProbingError(f"{folder}: no readable manifest.json; is it the --out folder of "
                           f"probing experiment or of a run?") from None
    if not isinstance(manifest, dict):
        raise ProbingError(f"{folder}/manifest.json: not a manifest of probing")
    if "experiment" in manifest:
        title, body = _experiment_body(folder, manifest)
    else:
        title, body = _run_body(folder, manifest)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_STYLE}</style><script>{_SCRIPT}</script>"
            "</head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _experiment_body(folder, manifest):
    history = load_history(folder)
    title = html.escape(manifest["experiment"]["name"])
    body = [f"<h1>{title}</h1>", _p(manifest["experiment"].get("description", "")),
            "<h2>Methods</h2>", *experiment_methods(manifest, history, _correction),
            "<h2>Results</h2>"]
    changed = [s["folder"] for s in manifest["steps"]
               if step_state(folder, _Keyed(s["folder"], s["key"])) == "changed"]
    if changed:  # shown as they are now, and said so: these are not the pipeline's numbers
        body.append(_p(f"Warning: the outputs of {len(changed)} step(s) were changed by hand "
                       f"after they were computed ({', '.join(changed)}); their tables below "
                       f"are not what the pipeline wrote. Rerun probing experiment to "
                       f"recompute them (probing status lists them)."))
    for analysis in manifest["analyses"]:
        body += _results(folder, manifest, analysis)
    body += ["<h2>Provenance</h2>", *_provenance(folder, manifest, history)]
    return title, body


def _run_body(folder, manifest):
    """A single run folder: its Methods, every table it wrote, its figures, provenance."""
    kind = infer_kind(folder, manifest.get("command") or ())
    entry = ANALYSES.get(kind)
    title = html.escape(f"{folder.name}: {kind or 'run'}")
    body = [f"<h1>{title}</h1>", "<h2>Methods</h2>", *run_methods(folder, manifest, kind),
            "<h2>Results</h2>"]
    shown = [n for n in (entry.report if entry else ()) if (folder / f"{n}.csv").exists()]
    shown = shown or sorted(p.stem for p in folder.glob("*.csv")
                            if p.stem not in ("stimuli", "tokens", "words"))
    for name in shown:
        body += [f"<h4>{html.escape(name)}</h4>", _table(read_run_table(folder / f"{name}.csv"))]
    body += [_figure(path.name, path.read_bytes()) for path in sorted(folder.glob("*.png"))]
    rows = [("command", " ".join(manifest.get("command") or [])),
            ("run", f"{manifest.get('started')} to {manifest.get('finished')}"),
            ("paradigm file", f"{manifest.get('paradigm', {}).get('path')} (sha256 "
             f"{str(manifest.get('paradigm', {}).get('sha256'))[:16]})"),
            ("python", f"{manifest.get('python')} on {manifest.get('platform')}"),
            ("packages", ", ".join(f"{k} {v}" for k, v in (manifest.get("packages") or {})
                                   .items() if v))]
    return title, body + ["<h2>Provenance</h2>", _rows(rows)]


def _p(text):
    return f"<p>{html.escape(str(text))}</p>" if text else ""


def _correction(analysis):
    """The multiple-comparison correction in use, where the analysis has one."""
    entry = ANALYSES.get(analysis["kind"])
    fields = entry.option_names() if entry else ()
    if "correction" in analysis["options"] or "correction" in fields:
        default = next((f.default for f in dataclasses.fields(entry.options)
                        if f.name == "correction"), "holm") if entry else "holm"
        return (f" Multiple-comparison correction: "
                f"{analysis['options'].get('correction', default)}.")
    if analysis["kind"] == "localize":
        options = {f.name: f.default for f in dataclasses.fields(entry.options)}
        options.update(analysis["options"])
        rule = {"top": f"the top {options['top_percent']}% of units by t, uncorrected",
                "fdr": f"Benjamini-Hochberg FDR at {options['alpha']}",
                "fwe": f"max-t permutation family-wise error at {options['alpha']}"}
        return f" Units selected by {rule.get(options['selection'], options['selection'])}."
    return {"ablate": " Multiple-comparison correction: holm, across phenomena."}.get(
        analysis["kind"], "")


def _steps(manifest, analysis, kind):
    return [s for s in manifest["steps"] if s["analysis"] == analysis["name"]
            and s["kind"] == kind and s["status"] in ("ran", "cached")]


def _gather(folder, steps):
    """Each table name -> its concatenation over ``steps`` with a ``seed`` column."""
    frames = {}
    for step in steps:
        seed = "default" if step["seed"] is None else step["seed"]
        for path in sorted((folder / step["folder"]).glob("*.csv")):
            frame = read_run_table(path)
            if "seed" not in frame:
                frame.insert(max(0, len(frame.columns) - 2), "seed", seed)
            frames.setdefault(path.stem, []).append(frame)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}


def _results(folder, manifest, analysis):
    entry = ANALYSES.get(analysis["kind"])
    out = [f"<h3>{html.escape(analysis['name'])}</h3>"]
    tables = _gather(folder, _steps(manifest, analysis, "model"))
    summaries = dict(entry.summaries) if entry else {}
    for name in (entry.report if entry else sorted(tables)):
        if name in tables and len(tables[name]):
            frame = summaries[name](tables[name]) if name in summaries else tables[name]
            out += [f"<h4>{html.escape(name)}</h4>", _table(frame)]
    pooled = _gather(folder, _steps(manifest, analysis, "pool"))
    for name, frame in pooled.items():
        out += [f"<h4>{html.escape(name)}: pooled over seeds (mean, sd, range)</h4>",
                _table(frame.drop(columns="seed"))]
    figures = [fig for make in (entry.figures if entry else ()) for fig in make(tables)]
    out += [_figure(title, _png(fig)) for title, fig in figures]
    for step in _steps(manifest, analysis, "model"):
        for path in sorted((folder / step["folder"]).glob("*.png")):
            out.append(_figure(f"{step['folder']}/{path.name}", path.read_bytes()))
    return out


def _table(frame):
    note = ""
    if len(frame) > MAX_ROWS:
        note = f"<p>First {MAX_ROWS} of {len(frame)} rows; the CSV files hold all.</p>"
        frame = frame.head(MAX_ROWS)
    return frame.to_html(index=False, border=0, float_format=lambda v: f"{v:.4g}",
                         na_rep="") + note


def _png(figure):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _figure(caption, png):
    data = base64.b64encode(png).decode("ascii")
    caption = html.escape(caption)
    return (f"<figure><img alt=\"{caption}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{caption}</figcaption></figure>")


def _rows(rows):
    return ("<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td style=\"text-align:left\">"
                                f"{html.escape(str(v))}</td></tr>" for k, v in rows)
            + "</table>")


def _provenance(folder, manifest, history):
    """The experiment, every recorded run, and each step: key, state now, computed by."""
    rows = [("experiment file", f"{manifest['experiment']['path']} "
             f"(sha256 {manifest['experiment']['sha256'][:16]})")]
    rows += [(f"paradigm {p['name']}", f"{p['path']} (sha256 {p['sha256'][:16]}), "
              f"generation seeds {', '.join(map(str, p['seeds']))}")
             for p in manifest["paradigms"]]
    runs = pd.DataFrame([_run_row(r) for r in history] or [_run_row(manifest)])
    made_by = producers(history)
    steps = pd.DataFrame([
        {"folder": s["folder"], "key": s["key"][:16],
         "state": step_state(folder, _Keyed(s["folder"], s["key"])),
         "computed": made_by.get(s["folder"], {}).get("started", "")}
        for s in manifest["steps"]])
    return [_rows(rows), "<h4>Runs (one record each in history/)</h4>", _table(runs),
            "<h4>Steps (content-hash keys; state of the outputs now)</h4>", _table(steps)]


@dataclasses.dataclass(frozen=True)
class _Keyed:
    folder: str
    key: str


def _run_row(record):
    steps = record.get("steps")
    if isinstance(steps, dict):
        counts = {k: len(v) for k, v in steps.items()}
    else:  # a manifest of an older run: its step list with a status each
        counts = pd.Series([s["status"] for s in steps]).value_counts().to_dict()
    loaded = record.get("models_loaded") or {}
    devices = record.get("devices") or {}
    packages = record.get("packages") or {}
    return {"started": record.get("started"), "finished": record.get("finished"),
            "command": " ".join(record.get("command") or []), "cwd": record.get("cwd", ""),
            "host": record.get("host", ""),
            "steps": ", ".join(f"{n} {k}" for k, n in counts.items() if n),
            "models loaded": ", ".join(loaded) or "none",
            "devices": ", ".join(f"{k}: {v}" for k, v in devices.items()),
            "probing": f"{record.get('probing_version')} (git {record.get('git_commit') or 'n/a'})",
            "torch": packages.get("torch") or "", "executor": record.get("executor")}
