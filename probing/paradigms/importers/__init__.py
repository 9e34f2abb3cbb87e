"""Importers: published data sets read into :class:`probing.stimuli.Stimuli`.

- :func:`read_blimp`: BLiMP minimal pairs (JSON lines), with critical-word regions.
- :func:`read_syntaxgym`: one SyntaxGym test suite (JSON), regions and predictions.
- :func:`read_conllu`: a CoNLL-U treebank, word labels with exact character spans.
- :func:`read_table_source`: any CSV/TSV whose columns are mapped to our roles.
- :func:`read_fedorenko2010`: the Fedorenko et al. (2010) language-localizer stimuli.
"""

from probing.paradigms.importers.blimp import read_blimp
from probing.paradigms.importers.conllu import read_conllu
from probing.paradigms.importers.fedorenko2010 import read_fedorenko2010
from probing.paradigms.importers.syntaxgym import read_syntaxgym
from probing.paradigms.importers.table import read_table_source

__all__ = ["read_blimp", "read_conllu", "read_fedorenko2010", "read_syntaxgym",
           "read_table_source"]
