"""One module per CLI command (or command group); ``worker.cli`` loads them lazily."""
