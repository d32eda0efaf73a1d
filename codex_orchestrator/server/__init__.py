"""The HTTP API, the web page and the MCP server (optional extra ``[server]``).

Nothing outside this package imports it: the ``serve`` and ``mcp`` commands load it
lazily, so the core CLI starts without FastAPI, uvicorn or the MCP SDK installed.
"""
