"""Unit responses: one value per stimulus and unit, over the chosen layers.

A unit is one coordinate of one layer's vector at one recording site, named by
``(layer, site, unit)``. The responses of all units of all requested layers are laid
side by side in one ``(n_stimuli, n_units)`` matrix, the shape a mass-univariate GLM
takes (stimuli play the role of scans, units the role of voxels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.store import Activations

__all__ = ["UNIT_COLUMNS", "build_unit_responses", "pool_words"]

#: Columns that name a unit in every table of this package.
UNIT_COLUMNS = ("layer", "site", "unit")


def build_unit_responses(acts, *, absolute=False):
    """Stimulus x unit response matrix from layerwise activations.

    Parameters
    ----------
    acts : probing.store.Activations
        Sentence-level activations, ``values`` of shape ``(n_stimuli, n_layers, n_units)``.
    absolute : bool, default False
        Use ``|activation|`` instead of the signed activation. A unit whose activation
        grows more negative for sentences has a large *absolute* response and is
        selected by an absolute localizer but not by a raw one; the choice changes which
        units are found, so it is an explicit option.

    Returns
    -------
    responses : numpy.ndarray
        ``(n_stimuli, n_layers * n_units)`` float64, layers side by side in the order of
        ``acts.layers``.
    units : pandas.DataFrame
        One row per column of ``responses``: ``layer, site, unit``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> acts = Activations(np.arange(12, dtype=np.float32).reshape(2, 2, 3) - 6,
    ...                    pd.DataFrame({"stimulus_id": ["a", "b"]}), layers=(0, 3),
    ...                    site="resid_post", pooling="last")
    >>> responses, units = build_unit_responses(acts, absolute=True)
    >>> responses[0].tolist(), units["layer"].tolist()
    ([6.0, 5.0, 4.0, 3.0, 2.0, 1.0], [0, 0, 0, 3, 3, 3])
    """
    if not isinstance(acts, Activations):
        raise ProbingError(f"acts must be an Activations; got {type(acts).__name__}")
    if acts.level != "sentence":
        raise ProbingError("unit responses need one row per stimulus (level 'sentence'); "
                           "pool word rows first with pool_words")
    n_rows, n_layers, n_units = acts.values.shape
    responses = np.asarray(acts.values, dtype=np.float64).reshape(n_rows, n_layers * n_units)
    if absolute:
        responses = np.abs(responses)
    units = pd.DataFrame({"layer": np.repeat(np.asarray(acts.layers, dtype=int), n_units),
                          "site": acts.site, "unit": np.tile(np.arange(n_units), n_layers)})
    return responses, units


def pool_words(acts):
    """Average word-level rows into one row per stimulus (every word weighs the same).

    Parameters
    ----------
    acts : probing.store.Activations
        Word-level activations (``level="word"``), each row one word pooled over its
        tokens.

    Returns
    -------
    probing.store.Activations
        Sentence level, one row per stimulus in order of first appearance; ``pooling``
        is ``words:<the word pooling>``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> index = pd.DataFrame({"stimulus_id": ["a", "a", "b"], "word_index": [0, 1, 0],
    ...                       "word": ["x", "y", "z"]})
    >>> words = Activations(np.array([[[1.0]], [[3.0]], [[5.0]]]), index, layers=(0,),
    ...                     site="resid_post", pooling="mean", level="word")
    >>> pool_words(words).values[:, 0, 0].tolist()
    [2.0, 5.0]
    """
    if acts.level != "word":
        raise ProbingError(f"pool_words needs word-level activations; got level {acts.level!r}")
    ids = acts.index["stimulus_id"].astype(str)
    order = pd.unique(ids)
    codes = pd.Categorical(ids, categories=order).codes
    values = np.asarray(acts.values, dtype=np.float64)
    sums = np.zeros((len(order), *values.shape[1:]))
    np.add.at(sums, codes, values)
    means = sums / np.bincount(codes, minlength=len(order))[:, None, None]
    return Activations(means.astype(acts.values.dtype), pd.DataFrame({"stimulus_id": order}),
                       layers=tuple(acts.layers), site=acts.site,
                       pooling=f"words:{acts.pooling}", level="sentence",
                       provenance=dict(acts.provenance))
