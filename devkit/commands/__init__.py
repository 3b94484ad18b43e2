"""The devkit's ``leadrouter`` commands (demo, sandbox, soak, bench, fake data, the sink),
declared as ``leadrouter.commands`` entry points in ``pyproject.toml``."""
