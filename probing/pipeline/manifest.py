"""Provenance: what produced a run folder, precisely enough to reproduce it."""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = ("probing", "numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "torch",
            "transformers", "tokenizers", "gguf", "pyyaml")


def file_sha256(path):
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions():
    """Installed versions of the packages that change results (None if absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def now():
    """UTC timestamp in ISO 8601."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def build_manifest(*, paradigm_path, seed, options, model_provenance, started, argv=None):
    """The run's manifest as a JSON-able dict."""
    return {
        "command": list(sys.argv if argv is None else argv),
        "started": started,
        "finished": now(),
        "paradigm": {"path": str(paradigm_path), "sha256": file_sha256(paradigm_path)},
        "seed": seed,
        "options": options,
        "model": model_provenance,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }


def git_commit():
    """The commit of the checkout ``probing`` runs from (None when it is not a checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], check=True,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def hardware():
    """CPU count, machine, memory and GPUs (``nvidia-smi`` names, when there is one)."""
    record = {"machine": platform.machine(), "platform": platform.platform(),
              "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        record["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               check=True, capture_output=True, text=True, timeout=10).stdout
        record["gpus"] = [n.strip() for n in names.splitlines() if n.strip()]
    except (OSError, subprocess.SubprocessError):
        record["gpus"] = []
    return record
