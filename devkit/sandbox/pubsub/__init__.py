"""The sandbox org's Pub/Sub API: Change Data Capture events for leads, over gRPC.

``bus`` captures the store's writes as ``LeadChangeEvent`` s (Avro, shaped by
``schema``), keeps them for replay and counts deliveries; ``service`` implements
``eventbus.v1.PubSub`` over it; ``server`` serves it over TLS beside the HTTPS server
(``start_sandbox(..., pubsub_port=0)`` or ``leadrouter sandbox serve --pubsub-port``).
``origin`` carries a REST request's ``changeOrigin`` to the events its writes cause.
This package's ``__init__`` imports nothing: the HTTP side needs ``origin`` only.
"""
