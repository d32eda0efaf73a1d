"""Artifacts of runs: kept, collected, validated, sealed, and committed to git (LAYERS.md).

``keep`` runs after every stage, ``collect`` after every run; ``objects`` is the
content-addressed store that dedups kept files; ``listing`` holds the readers (list,
show, ls, get) that the CLI, the server and the git store call; ``prune``, ``pack`` and
``search`` keep storage bounded and findable. Every path comes from store/layout.py.
"""
