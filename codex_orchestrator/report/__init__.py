"""Reports people look at: HTML with a timeline, JUnit XML, a Markdown step summary, a trace.

Every format is rendered from a :class:`~codex_orchestrator.report.model.RunReport`,
which reads the run only through ``store/`` readers (manifest, child manifests, error
files).
"""
