"""Provenance: what produced a run folder, precisely enough to reproduce it."""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import platform
import sys

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
