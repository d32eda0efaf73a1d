"""Reading and migrating older ``.runs`` layouts, and the metrics summary."""
