"""Controlled probing of layerwise representations (arrays in, tidy tables out)."""

from probing.probes.estimators import LogisticProbe, MLPProbe, RidgeClassifierProbe, RidgeProbe

__all__ = ["LogisticProbe", "MLPProbe", "RidgeClassifierProbe", "RidgeProbe"]
