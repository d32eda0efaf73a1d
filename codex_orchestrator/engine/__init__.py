"""Running things: processes, stages, the run driver, heartbeats, resume."""
