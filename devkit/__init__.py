"""The test rig, shipped apart from the product: the sandbox org (a local HTTPS Salesforce),
the soak, the benchmarks, the demo and the fake-data generator.

Installed with the ``devkit`` extra (``pip install -e '.[devkit]'``); its ``leadrouter``
commands are entry points of the ``leadrouter.commands`` group, so they appear only when it
is installed. It may import the product; the product never imports it.
"""
