"""End-to-end jobs that join the layers: stimuli -> model -> measures -> statistics -> files."""
