"""Which relabellings the probe permutation test draws: its exchangeable units.

A permutation test is exact when the relabellings it draws leave the joint
distribution of (activations, labels, folds) unchanged under the null. Two things
decide which relabellings those are:

Folds
    Folds built from an int ``cv`` by :func:`permutation_test_layers` do not look at
    the labels (``KFold``/``GroupKFold``), so any relabelling keeps them valid. Explicit
    folds (or a splitter) may have been stratified on the true labels; then only
    relabellings that keep each fold's label counts are exchangeable, and the rows
    (or groups of one size) are permuted within their test fold.
Groups
    Rows of a group (an item, a word type) share their activations, so rows are not
    exchangeable across groups: the labels of whole groups are. A group whose label is
    constant gives that label to any other such group; a group with mixed labels (an
    ambiguous word type) moves its sequence of labels, row by row, to another mixed
    group of the same size. Groups that no other group can take the place of keep
    their labels in every permutation, and the test warns.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

#: Accepted ``permute`` values of :func:`permutation_test_layers`.
PERMUTE = ("auto", "rows", "groups", "within_groups")


def resolve_scheme(permute, design, within, where):
    """``rows``, ``groups`` or ``within_groups`` for this design (see the module doc)."""
    grouped = design.groups is not None and np.bincount(design.codes).max() > 1
    if permute in ("groups", "within_groups") and not grouped:
        raise ProbingError(f"{where}: permute={permute!r} needs groups with several rows")
    if within is not None and permute not in ("auto", "rows"):
        raise ProbingError(f"{where}: within= applies to permute='rows' only")
    if permute != "auto":
        return permute
    if not grouped or within is not None:
        return "rows"
    constant = _constant_groups(design)[np.bincount(design.codes) > 1]
    # Labels constant within most groups (a type-level label, with a few ambiguous types):
    # groups are the units. Labels varying within most groups (a within-item factor):
    # only rows within a group are exchangeable.
    return "groups" if constant.mean() >= 0.5 else "within_groups"


def _constant_groups(design):
    frame = pd.DataFrame({"g": design.codes, "y": pd.factorize(design.labels)[0]})
    return (frame.groupby("g")["y"].nunique() == 1).to_numpy()


def draw_permutations(design, scheme, within, n_perm, rng, where, *, label_free=True):
    """``(n_perm, n_rows)`` source rows: permuted row ``i`` takes the label of ``perm[i]``."""
    fold = None if label_free else design.fold_of_row()
    if scheme == "groups":
        return _permute_groups(design, fold, n_perm, rng, where)
    if scheme == "within_groups":
        return _permute_in_blocks(design.codes, n_perm, rng)
    blocks = None if within is None else _check_within(within, design.source.n_rows, where)
    if fold is not None:
        blocks = fold if blocks is None else pd.factorize(
            pd.MultiIndex.from_arrays([blocks, fold]))[0]
    if blocks is None:
        n_rows = design.source.n_rows
        return rng.permuted(np.tile(np.arange(n_rows), (n_perm, 1)), axis=1)
    return _permute_in_blocks(blocks, n_perm, rng)


def _check_within(within, n_rows, where):
    blocks = np.asarray(within)
    if blocks.ndim != 1 or blocks.shape[0] != n_rows or pd.isna(blocks).any():
        raise ProbingError(f"{where}: within must be 1-D with one block per row ({n_rows}), "
                           f"no missing values; got shape {blocks.shape}")
    return pd.factorize(blocks)[0]


def _permute_in_blocks(blocks, n_perm, rng):
    perms = np.tile(np.arange(blocks.size), (n_perm, 1))
    for rows in pd.Series(np.arange(blocks.size)).groupby(blocks).indices.values():
        perms[:, rows] = rows[rng.permuted(np.tile(np.arange(rows.size), (n_perm, 1)), axis=1)]
    return perms


def _group_classes(design, fold):
    """Class of each group: groups of one class exchange their labels."""
    codes = design.codes
    sizes = np.bincount(codes)
    constant = _constant_groups(design)
    first = np.unique(codes, return_index=True)[1]
    keys = []
    for g in range(sizes.size):
        if fold is not None:
            keys.append(("fold", fold[first[g]], sizes[g]))
        else:
            keys.append(("constant",) if constant[g] else ("mixed", sizes[g]))
    return pd.factorize(pd.Series(keys))[0], constant


def _permute_groups(design, fold, n_perm, rng, where):
    codes = design.codes
    order = np.argsort(codes, kind="stable")
    rows_of = np.split(order, np.cumsum(np.bincount(codes))[:-1])  # each group's rows, in order
    classes, constant = _group_classes(design, fold)
    firsts = np.array([rows[0] for rows in rows_of])
    perms = np.tile(np.arange(codes.size), (n_perm, 1))
    alone = []
    for members in pd.Series(np.arange(classes.size)).groupby(classes).indices.values():
        if members.size == 1:
            alone.append(members[0])
            continue
        shuffled = members[rng.permuted(np.tile(np.arange(members.size), (n_perm, 1)), axis=1)]
        single = fold is None and constant[members[0]]  # a class of constant-label groups
        # groups of one class have one size unless they are constant (then any size fits:
        # every row of a group takes the label of the source group's first row)
        table = None if single else np.stack([rows_of[g] for g in members])
        position = np.full(classes.size, -1)
        position[members] = np.arange(members.size)
        for j, g in enumerate(members):
            source = shuffled[:, j]
            perms[:, rows_of[g]] = (firsts[source][:, None] if single
                                    else table[position[source]])
    _warn_alone(alone, rows_of, classes.size, where)
    return perms


def _warn_alone(alone, rows_of, n_groups, where):
    if not alone:
        return
    n_rows = sum(rows_of[g].size for g in alone)
    if len(alone) == n_groups:
        message = (f"{where}: no group can exchange its labels with another (every group has "
                   f"a size or fold of its own): the permutation null is degenerate and "
                   f"every p-value is 1; use permute='rows' or within_groups")
    else:
        message = (f"{where}: {len(alone)} of {n_groups} groups ({n_rows} rows) have no "
                   f"exchangeable partner (a mixed-label group of a size no other such group "
                   f"has) and keep their labels in every permutation")
    warnings.warn(message, UserWarning, stacklevel=6)
