"""The causal analyses never load torch (checked in a fresh interpreter)."""

import subprocess
import sys


def test_import_causal_does_not_import_torch():
    code = ("import sys, probing.causal\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('torch', "
            "'transformers', 'concept_erasure')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.split() == []
