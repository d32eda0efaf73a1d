"""The ``.runs`` tree: every path, every read and every write of run evidence."""
