"""The command line, above every other layer (nothing imports it).

Importing ``flows`` first sets Prefect's defaults for this machine (no telemetry; time for its
temporary server to start), before any command imports Prefect.
"""

import flows  # noqa: F401
