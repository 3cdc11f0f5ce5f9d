"""Prefect flows and the CLI. Importing this package sets Prefect defaults for this machine.

No network here or on most servers that run policywatch: Prefect's analytics are off,
and its ephemeral API server gets time to start on a cold 2-core machine.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
