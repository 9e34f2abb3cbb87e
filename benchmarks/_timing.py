"""Timing shared by the benchmark scripts (run as ``python benchmarks/X.py``).

The machine is shared, so a figure alone means little: the scripts time the package and
its plain reference in the same run, interleaved and repeated, and report the median
ratio of CPU time (``time.process_time``: every thread of this process, which the other
users of the cores add little to) with the wall time and the load average next to it.
"""

import os
import resource
import statistics
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


def interleaved(functions, repeats):
    """Run each function once per round, ``repeats`` rounds; ``{name: [(wall, cpu), ...]}``.

    Interleaving puts the package and its reference under the same load in every round.
    """
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def median_ratio(times, name, reference, which=1):
    """Median over rounds of ``name``'s time over ``reference``'s (``which``: 0 wall, 1 CPU)."""
    return statistics.median(a[which] / b[which] for a, b in
                             zip(times[name], times[reference], strict=True))


def median_time(times, name, which=1):
    """Median over rounds of one function's wall (0) or CPU (1) seconds."""
    return statistics.median(t[which] for t in times[name])


def load_average():
    """The 1-minute load average (the machine's other users), as a string."""
    return f"{os.getloadavg()[0]:.2f}"


def peak_rss_mb():
    """Peak resident memory of this process so far, in MB (``ru_maxrss`` is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
