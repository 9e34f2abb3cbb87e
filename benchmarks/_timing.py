"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/X.py``)."""

import time


def timed(function, repeats=1):
    """Best wall time of ``repeats`` calls (the machine's noise only ever adds), and the
    last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result
