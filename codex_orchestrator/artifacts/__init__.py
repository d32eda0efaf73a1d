"""Kept, live and sealed artifacts of runs (LAYERS.md sections 2 and 3)."""
