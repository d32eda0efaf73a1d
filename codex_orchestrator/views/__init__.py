"""Read-only views over run evidence: status of one run, the list of runs."""
