"""Conversion to and from rsatoolbox (an optional dependency, imported when used).

Values are passed through unchanged, so the rsatoolbox object holds *our* metric
(named in its ``dissimilarity_measure``); see :mod:`probing.rsa.compute` for how each
of our metrics relates to rsatoolbox's (for example its ``euclidean`` is our
``sqeuclidean`` divided by the number of units).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.rsa.rdm import check_rdm

__all__ = ["from_rsatoolbox", "to_rsatoolbox"]


def _rsatoolbox_rdm():
    try:
        return importlib.import_module("rsatoolbox.rdm")
    except ImportError:
        raise ProbingError("to_rsatoolbox/from_rsatoolbox need rsatoolbox; install it with "
                           "`pip install rsatoolbox` or `pip install probing[rsa]`") from None


def to_rsatoolbox(rdms):
    """An ``rsatoolbox.rdm.RDMs`` holding the same RDMs.

    Parameters
    ----------
    rdms : RDMs or array_like

    Returns
    -------
    rsatoolbox.rdm.RDMs
        Conditions in the pattern descriptor ``conditions``, our descriptors as rdm
        descriptors, ``dissimilarity_measure`` our metric.

    Examples
    --------
    >>> from probing.rsa import RDMs
    >>> out = to_rsatoolbox(RDMs([1.0, 2.0, 3.0], stimulus_ids=list("abc"), distance="euclidean"))
    >>> out.n_cond, out.pattern_descriptors["conditions"]
    (3, ['a', 'b', 'c'])
    """
    module = _rsatoolbox_rdm()
    rdms = check_rdm(rdms)
    descriptors = {c: rdms.descriptors[c].tolist() for c in rdms.descriptors.columns}
    return module.RDMs(np.array(rdms.values), dissimilarity_measure=rdms.distance,
                       rdm_descriptors=descriptors,
                       pattern_descriptors={"conditions": list(rdms.stimulus_ids)})


@renamed(conditions="descriptor")
def from_rsatoolbox(rdms, *, descriptor="conditions"):
    """Our :class:`RDMs` from an ``rsatoolbox.rdm.RDMs``.

    Parameters
    ----------
    rdms : rsatoolbox.rdm.RDMs
    descriptor : str, default "conditions"
        The rsatoolbox pattern descriptor that holds the row labels, our
        ``stimulus_ids`` (``index`` if it is missing).

    Returns
    -------
    RDMs
        Values unchanged; rdm descriptors (except ``index``) become descriptors.

    Examples
    --------
    >>> from probing.rsa import RDMs
    >>> back = from_rsatoolbox(to_rsatoolbox(RDMs([1.0, 2.0, 3.0], stimulus_ids=list("abc"))))
    >>> back.stimulus_ids, back.values.tolist()
    (('a', 'b', 'c'), [[1.0, 2.0, 3.0]])
    """
    _rsatoolbox_rdm()
    key = descriptor if descriptor in rdms.pattern_descriptors else "index"
    descriptors = pd.DataFrame({k: list(v) for k, v in rdms.rdm_descriptors.items()
                                if k != "index"}, index=range(rdms.n_rdm))
    return check_rdm(rdms.get_vectors(), stimulus_ids=list(rdms.pattern_descriptors[key]),
                     distance=rdms.dissimilarity_measure or "custom", descriptors=descriptors)
