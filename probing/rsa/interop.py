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
        Our ``stimulus_ids`` in the pattern descriptor ``stimulus_id`` (rsatoolbox calls
        an RDM's rows its conditions; for us a condition is a design cell), our
        descriptors as rdm descriptors, ``dissimilarity_measure`` our distance.

    Examples
    --------
    >>> from probing.rsa import RDMs
    >>> out = to_rsatoolbox(RDMs([1.0, 2.0, 3.0], stimulus_ids=list("abc"), distance="euclidean"))
    >>> out.n_cond, out.pattern_descriptors["stimulus_id"]
    (3, ['a', 'b', 'c'])
    """
    module = _rsatoolbox_rdm()
    rdms = check_rdm(rdms)
    descriptors = {c: rdms.descriptors[c].tolist() for c in rdms.descriptors.columns}
    return module.RDMs(np.array(rdms.values), dissimilarity_measure=rdms.distance,
                       rdm_descriptors=descriptors,
                       pattern_descriptors={"stimulus_id": list(rdms.stimulus_ids)})


@renamed(conditions="descriptor")
def from_rsatoolbox(rdms, *, descriptor=None):
    """Our :class:`RDMs` from an ``rsatoolbox.rdm.RDMs``.

    Parameters
    ----------
    rdms : rsatoolbox.rdm.RDMs
    descriptor : str, optional
        The rsatoolbox pattern descriptor that holds the row labels, our
        ``stimulus_ids`` (``index`` if it is missing). Default: ``stimulus_id`` (what
        :func:`to_rsatoolbox` writes), else ``conditions`` (what it wrote before 0.2),
        else ``index``.

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
    present = rdms.pattern_descriptors
    candidates = ("stimulus_id", "conditions") if descriptor is None else (descriptor,)
    key = next((k for k in candidates if k in present), "index")
    descriptors = pd.DataFrame({k: list(v) for k, v in rdms.rdm_descriptors.items()
                                if k != "index"}, index=range(rdms.n_rdm))
    return check_rdm(rdms.get_vectors(), stimulus_ids=list(rdms.pattern_descriptors[key]),
                     distance=rdms.dissimilarity_measure or "custom", descriptors=descriptors)
