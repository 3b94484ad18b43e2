"""leadrouter: open-source lead routing for Salesforce.

The package is laid out by dependency direction (see README, "Architecture"):
``worker.routing`` is the pure core, ``worker.sfdc`` and ``worker.store`` are adapters,
``worker.jobs`` composes them and ``worker.cli`` is the entry point.
"""

__version__ = "0.1.0"
