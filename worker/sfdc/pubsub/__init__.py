"""The Salesforce Pub/Sub API: Change Data Capture events over gRPC.

- ``pubsub_api.proto``: the service (package ``eventbus.v1``); ``pubsub_api_pb2*`` are
  the stubs grpcio-tools generates from it, committed (``make stubs`` regenerates them;
  a unit test fails when they drift), because the runtime image carries no grpcio-tools.
- :mod:`.bitmaps`: the field names a ``ChangeEventHeader`` bitmap stands for.
- :mod:`.events`: Avro decoding of event payloads, with a schema cache keyed by schema id.

Everything here but the stubs is pure (no network): the subscriber that talks to
Salesforce builds on it.
"""
