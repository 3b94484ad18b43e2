"""The sandbox org: a local HTTPS server that speaks the Salesforce REST API.

Public API (see :mod:`.harness`): ``start_sandbox(state_dir, ...) -> SandboxHandle`` serves
an org in a background thread; ``handle.admin()`` (:class:`.admin.SandboxAdmin`) drives it
without counting API calls; :class:`.remote.RemoteAdmin` does the same for a sandbox run
with ``leadrouter sandbox serve`` (which writes ``<state-dir>/sandbox.json``).

Layout: ``server`` (TLS transport; ``framing`` reads Content-Length or chunked bodies,
``coding`` gzip/deflate) -> ``app`` (token / identity / admin / data pipeline, faults,
limits, ``latency`` profile, ``inflight`` long-running request limit) -> ``api``
(routing, query) and ``sobjects`` (rows, collections) -> ``dml`` (data rules) over
``store`` (in-memory rows written through to SQLite). ``soql`` parses and evaluates the
SOQL subset; ``seed``/``leadgen`` build realistic data.

Where Salesforce's behaviour is not documented we chose the conservative answer, and say
so where it is implemented. The main ones:

- ``Owner.IsActive`` on a queue-owned record is null (resolve.py).
- A closed Task moves its lead's SystemModstamp as well as LastActivityDate (dml.py).
- dateTimes are kept to the second, so many rows share a SystemModstamp (dml.py).
- A repeated Id in one collection request is refused per record (sobjects.py).
- Failed records in a collection carry no ``id``: correlate results by position.
- Unknown fields in a collection body fail the whole request (400 INVALID_FIELD).
- The daily API allocation resets at the UTC day boundary, not over a rolling 24 h (org.py).
- Query cursors are snapshots of the matching rows taken when the query ran; they live
  2 days from the query, with no limit on how many are open (org.py).
- A create answers with a ``Location`` header (Composite documents it in a create
  subrequest's ``httpHeaders``; the top-level create is assumed to carry the same).
- The identity URL is served on the instance host, not on login.salesforce.com.
- A request refused by the concurrent long-running limit is not counted toward the
  daily allocation (inflight.py).
"""
