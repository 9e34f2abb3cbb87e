"""``probing report``: one self-contained HTML page from an experiment's results folder.

Everything comes from the folder alone (``manifest.json``, the step folders' tables and
figures): a methods section written from the recorded files, results tables with
intervals and corrected p-values, figures embedded as base64 PNG (no network needed)
and the provenance. A small inline script marks each figure ``data-rendered`` once the
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
from probing._core.io import read_table, write_text_atomic
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
        A results folder written by ``probing experiment``.

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
                           f"probing experiment?") from None
    title = html.escape(manifest["experiment"]["name"])
    body = [f"<h1>{title}</h1>", _p(manifest["experiment"].get("description", "")),
            "<h2>Methods</h2>", *_methods(manifest), "<h2>Results</h2>"]
    for analysis in manifest["analyses"]:
        body += _results(folder, manifest, analysis)
    body += ["<h2>Provenance</h2>", *_provenance(manifest)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_STYLE}</style><script>{_SCRIPT}</script>"
            "</head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _p(text):
    return f"<p>{html.escape(str(text))}</p>" if text else ""


def _methods(manifest):
    out = ["<h3>Paradigms</h3><ul>"]
    for p in manifest["paradigms"]:
        counts = ", ".join(f"{n} (seed {'default' if s == 'None' else s})"
                           for s, n in p["n_stimuli"].items())
        factors = "; ".join(f"{k}: {', '.join(v)}" for k, v in p.get("factors", {}).items())
        out.append(f"<li><b>{html.escape(p['name'])}</b> ({html.escape(p['kind'])}): "
                   f"{html.escape(p['description'])} Stimuli: {html.escape(counts)}."
                   + (f" Factors: {html.escape(factors)}." if factors else "")
                   + (f" Reference: {html.escape(p['reference'])}." if p["reference"] else "")
                   + "</li>")
    out.append("</ul><h3>Models</h3><ul>")
    for m in manifest["models"]:
        what = (f"control model: {m['reinitialize']} with re-initialised weights (seed "
                f"{m['seed']})" if m["reinitialize"] else f"loaded from {m['path']}"
                + (f" in {m['dtype']}" if m["dtype"] else ""))
        out.append(f"<li><b>{html.escape(m['name'])}</b>: {html.escape(what)}</li>")
    out.append("</ul><h3>Measures and tests</h3><ul>")
    references = [p["reference"] for p in manifest["paradigms"] if p["reference"]]
    for a in manifest["analyses"]:
        options = ", ".join(f"{k}={v}" for k, v in a["options"].items()) or "defaults"
        seeds = "" if a["seeds"] == [None] else f" Analysis seeds: {a['seeds']}."
        out.append(f"<li><b>{html.escape(a['name'])}</b> ({html.escape(a['kind'])}; "
                   f"{html.escape(', '.join(a['models']))} on "
                   f"{html.escape(', '.join(a['paradigms']))}): {html.escape(a['describe'])} "
                   f"Options: {html.escape(options)}.{html.escape(_correction(a))}"
                   f"{html.escape(seeds)}</li>")
        references += a["references"]
    out.append("</ul><p>Where a paradigm has several generation seeds, each seed's lexicon "
               "draw is run separately and pooled tables report the mean across seeds with "
               "their standard deviation, minimum and maximum.</p>")
    out.append("<h3>References</h3><ul>" + "".join(
        f"<li>{html.escape(r)}</li>" for r in dict.fromkeys(references)) + "</ul>")
    return out


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
            frame = read_table(path)
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


def _provenance(manifest):
    packages = ", ".join(f"{k} {v}" for k, v in manifest["packages"].items() if v)
    hardware = ", ".join(f"{k}: {v}" for k, v in manifest["hardware"].items())
    rows = [("experiment file", f"{manifest['experiment']['path']} "
             f"(sha256 {manifest['experiment']['sha256'][:16]})"),
            ("probing", f"{manifest['probing_version']}, git {manifest['git_commit'] or 'n/a'}"),
            ("packages", packages), ("hardware", hardware), ("executor", manifest["executor"]),
            ("run", f"{manifest['started']} to {manifest['finished']}"),
            ("models loaded in this run", ", ".join(manifest["models_loaded"]) or "none"),
            ("model devices", ", ".join(f"{k}: {v}" for k, v in
                                        manifest.get("devices", {}).items()) or "n/a")]
    rows += [(f"paradigm {p['name']}", f"sha256 {p['sha256'][:16]}, seeds {p['seeds']}")
             for p in manifest["paradigms"]]
    steps = pd.DataFrame([{"folder": s["folder"], "key": s["key"][:16], "status": s["status"]}
                          for s in manifest["steps"]])
    return ["<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td style=\"text-align:left\">"
                                f"{html.escape(str(v))}</td></tr>" for k, v in rows)
            + "</table>", "<h4>Steps (content-hash keys)</h4>", _table(steps)]
