"""The soak: the worker under chaos against a sandbox org, judged lead by lead.

``profile`` (how much, how long), ``routing`` (the soak's routing config), ``fleet`` (the
worker processes, killed and restarted), ``traffic`` (leads, humans, reps), ``chaos``
(faults, a scarce API allocation, kill moments), ``observe`` (owners over time, the
journal), ``campaign`` (one run, start to end), ``verdict`` (pure: the org vs. the
journal), ``report`` (the result). ``leadrouter soak`` is the command around them.
"""
