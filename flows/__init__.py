"""Prefect flows and the CLI. Importing this package sets Prefect defaults for this machine.

A privacy watchdog's tool sends nobody usage data: Prefect's client analytics
(``DO_NOT_TRACK``) and server analytics (``PREFECT_SERVER_ANALYTICS_ENABLED``, inherited by
the ephemeral API server and by flow-run subprocesses) are off unless set otherwise in the
environment. Its ephemeral API server gets time to start on a cold 2-core machine.
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
