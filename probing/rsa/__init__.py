"""Representational similarity analysis (arrays in, tidy tables out)."""
