"""The number of CPU threads torch computes with, set for a block and restored after.

CPU kernels split reductions by thread, so the last bits of an activation can depend on
the thread count: runs that must agree byte for byte (a serial run and a Ray run of one
experiment) use the same count.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["torch_threads"]


@contextlib.contextmanager
def torch_threads(n_threads=None):
    """Run the block with ``n_threads`` intra-op threads (None: leave the setting alone).

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
