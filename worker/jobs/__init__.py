"""Use cases of the worker: intake/route, write-back, reconcile, SLA sweep, purge.

Each job is a short composition: load -> call the pure routing core -> persist ->
push to Salesforce. Dependencies are passed in explicitly (:class:`~worker.jobs.deps.Deps`).
"""
