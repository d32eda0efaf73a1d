"""Executors beyond local processes (LAYERS.md section 7).

Nothing here is imported unless its executor is chosen: ``dask`` pulls in
``distributed`` (the optional ``[dask]`` extra), which must never slow down the CLI.
"""
