"""A module name means one thing: no two modules of the package share a basename.

``probing.models.patching`` (the forward passes) beside ``probing.causal.patching`` (the
effects) made every "patching" ambiguous in imports, tracebacks and docs; the modules
are named for their layer's job instead (``models.patch_runs``, ``causal.cell_correction``,
``pipeline.ablate_run`` beside the declared command ``pipeline.commands.ablate``, which
keeps its command's name...). The guard walks the package, so a new duplicate fails here.

Allowed, deliberately, in more than one place:

- ``__init__`` and ``__main__``: Python's own names.
- ``plotting``: the public plotting module of each analysis subpackage (``behaviour``,
  ``probes``, ``rsa``, ``causal``, ``localize``), as nilearn has one per subpackage;
  siblings may not import each other, so each analysis draws its own figures.
- ``_checks``: the private input checks of an analysis subpackage (``behaviour``,
  ``causal``); never imported from outside its package, for the same reason.
"""

import collections
from pathlib import Path

import probing

ALLOWED = {"__init__", "__main__", "plotting", "_checks"}


def _modules_by_basename():
    root = Path(probing.__file__).resolve().parent
    found = collections.defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        found[path.stem].append(str(path.relative_to(root.parent)))
    return found


def test_no_two_modules_share_a_basename():
    found = _modules_by_basename()
    assert len(found) > 150  # the walk saw the package
    duplicates = {name: paths for name, paths in found.items()
                  if len(paths) > 1 and name not in ALLOWED}
    assert duplicates == {}


def test_the_allowed_duplicates_are_still_duplicates():
    # an allowance that no longer applies is removed, not kept "just in case"
    found = _modules_by_basename()
    assert all(len(found[name]) > 1 for name in ALLOWED - {"__main__"})
