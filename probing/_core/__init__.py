"""Foundations shared by every layer: errors, atomic file writes, scoped config."""
