"""``probing path-patch``: path patching between the members of minimal pairs, declared once.

A command of its own rather than a mode of ``probing patch``: its cells are (sender,
receiver, region), not layer x position (x head), so ``--layers``, ``--site`` and
``--per-head`` would mean nothing in it, and its tables have other columns. The pairs,
regions, read-out, directions and correction are ``probing patch``'s (the same options,
declared once in :mod:`probing.pipeline.causal_options`); the engine is
:mod:`probing.pipeline.path_patch_run` on :func:`probing.models.path_patch`.

Components are written as the tables write them, ``SITE:LAYER[:HEAD]`` (``head_out:1:0``,
``mlp_out:2``), so a row's ``sender`` or ``receiver`` can be given back as it is.
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError
from probing._core.values import HEAD_SITES, PATH_RECEIVER_SITES, PATH_SENDER_SITES
from probing.commands import Command, ModelSettings, RunFolderSettings, option
from probing.pipeline.causal_options import PairOptions, SweepOptions

__all__ = ["COMMAND", "PathPatchOptions", "parse_components", "run_path_patch"]


def parse_components(text, allowed, flag):
    """``SITE:LAYER[:HEAD],...`` as ``(site, layer, head)`` tuples (head -1: the whole site).

    Only the form and the site names are checked here; layers and heads against the model
    are checked on its configuration before the weights load.

    Examples
    --------
    >>> parse_components("head_out:1:0,mlp_out:2", PATH_SENDER_SITES, "--sender")
    (('head_out', 1, 0), ('mlp_out', 2, -1))
    """
    if not isinstance(text, str) or not text.strip():
        raise ProbingError(f"{flag}: give SITE:LAYER[:HEAD], e.g. head_out:1:0")
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts[1:]):
            raise ProbingError(f"{flag} {item.strip()!r}: write SITE:LAYER[:HEAD] with integer "
                               f"LAYER and HEAD, e.g. head_out:1:0")
        site = parts[0].strip()
        if site not in allowed:
            raise ProbingError(f"{flag} {item.strip()!r}: site {site!r}; allowed "
                               f"{', '.join(allowed)}")
        if len(parts) == 3 and site not in HEAD_SITES:
            raise ProbingError(f"{flag} {item.strip()!r}: site {site!r} has no heads")
        out.append((site, int(parts[1]), int(parts[2]) if len(parts) == 3 else -1))
    if len(set(out)) < len(out):
        raise ProbingError(f"{flag} {text!r}: a component repeats")
    return tuple(out)


def _check_senders(text):
    parse_components(text, PATH_SENDER_SITES, "--sender")


def _check_receivers(text):
    parse_components(text, PATH_RECEIVER_SITES, "--receiver")


@dataclasses.dataclass(frozen=True)
class PathPatchOptions(SweepOptions, PairOptions):
    """Options of ``probing path-patch``; all are recorded in the manifest."""

    sender: str | None = option(
        None, "what is patched from the source member: SITE:LAYER[:HEAD], several with "
        "commas; sites " + ", ".join(PATH_SENDER_SITES) + " (head_out:1:0 one head's "
        "output)", type=str, required=True, metavar="SITE:LAYER[:HEAD]", check=_check_senders)
    receiver: str | None = option(
        None, "the one component the sender's change reaches the read-out through, at every "
        "position: SITE:LAYER[:HEAD], several with commas; sites "
        + ", ".join(PATH_RECEIVER_SITES), type=str, required=True, metavar="SITE:LAYER[:HEAD]",
        check=_check_receivers)

    def __post_init__(self):
        super().__post_init__()
        if self.positions != "regions":
            raise ProbingError(f"--positions {self.positions}: probing path-patch patches the "
                               f"sender at each region's tokens (--positions regions)")

    @property
    def sender_components(self):
        """The senders as ``(site, layer, head)``."""
        return parse_components(self.sender, PATH_SENDER_SITES, "--sender")

    @property
    def receiver_components(self):
        """The receivers as ``(site, layer, head)``."""
        return parse_components(self.receiver, PATH_RECEIVER_SITES, "--receiver")


def prepare_path_patch(paradigm, options):
    """The components given, the pairs, regions and contrast checked; no model."""
    from probing.pipeline.causal_run import prepare_pairs

    for name in ("sender", "receiver"):
        if getattr(options, name) is None:
            raise ProbingError(f"--{name}: required (SITE:LAYER[:HEAD], e.g. head_out:1:0)")
    if paradigm.stimuli.regions is None:
        raise ProbingError(f"{paradigm.path}: has no regions; probing path-patch patches the "
                           f"sender at a region's tokens")
    return prepare_pairs(paradigm, options, site=None)


def _check_model(plan, shape):
    """Every sender before every receiver, and each against the model's shape."""
    from probing.models.path_patching import check_path

    for sender in plan.options.sender_components:
        for receiver in plan.options.receiver_components:
            check_path(sender, receiver, shape)


def run_path_patch_plan(plan, lm):
    """Every (sender, receiver, region) cell in each direction; the tables."""
    from probing.pipeline.path_patch_run import path_patch_result

    return path_patch_result(plan, lm)


def run_path_patch(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Path-patch each sender through each receiver, region by region; write ``out``.

    Parameters
    ----------
    paradigm, lm, out, force, argv
        As for :func:`probing.pipeline.commands.patch.run_patch`.
    options : PathPatchOptions

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``patch_pairs``, ``path_patching`` (``direction, sender, receiver, position,
        metric, estimate, ci_low, ci_high, n_pairs, n_items``, then ``model, paradigm``),
        ``path_patching_pairs``, ``path_patching_corrected`` and ``excluded_pairs``.

    Examples
    --------
    >>> PathPatchOptions(sender="head_out:1:0", receiver="q:2:1").receiver_components
    (('q', 2, 1),)
    """
    from probing.pipeline.commands.execute import run_command

    result = run_command(COMMAND, paradigm, lm, out, options=options or PathPatchOptions(),
                         force=force, argv=argv)
    return dict(result.tables)


def _report(result, out):
    tables = result.tables
    table = tables["path_patching"]
    rows = table[table["metric"] == "restored_fraction"]
    rows = rows[["direction", "sender", "receiver", "position", "estimate", "ci_low", "ci_high"]]
    return (f"wrote {out}/ (path_patching.csv, path_patching_pairs.csv, "
            f"path_patching_corrected.csv, {len(tables['patch_pairs'])} pairs; "
            f"{len(tables['excluded_pairs'])} excluded: excluded_pairs.csv)\n"
            "restored fraction per cell:\n"
            + rows.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


COMMAND = Command(
    name="path-patch", help="path patching between the members of minimal pairs",
    description="Patch each sender from each pair's source member at a region's tokens and "
    "let the change reach the read-out only through one receiver (every other path frozen; "
    "Wang et al. 2022), region by region, and write DIR/manifest.json, patch_pairs.csv, "
    "path_patching.csv (effect and restored fraction with item intervals), "
    "path_patching_pairs.csv, path_patching_corrected.csv (each cell corrected for testing "
    "every cell) and excluded_pairs.csv.",
    options=PathPatchOptions, prepare=prepare_path_patch, run=run_path_patch_plan,
    kinds=("minimal_pairs",), settings=(ModelSettings, RunFolderSettings), report=_report,
    check_model=_check_model,
    example={"paradigm": "agreement_pp_attractor.yaml", "contrast": "subject_number",
             "readout": "logit_diff", "sender": "head_out:1:0", "receiver": "q:2:0",
             "region": "subject", "limit": 2, "n_boot": 10})
