"""Artifacts of runs: kept, collected, validated, sealed, and committed to git (LAYERS.md)."""
