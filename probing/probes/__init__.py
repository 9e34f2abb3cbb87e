"""Controlled probing of layerwise representations (arrays in, tidy tables out)."""
