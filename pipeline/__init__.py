"""The domain steps of policywatch, plain functions the Prefect flows (``flows/``), a replay
and a re-derivation share:

- ``pipeline.spider_process``: run the spider in a subprocess, read its events (fetch);
- ``pipeline.versions``: a fetch's text becomes a version, or not; moves are transitions;
- ``pipeline.detect``: a transition is diffed once, classified, stored as a change;
- ``pipeline.source_health`` and ``pipeline.link_checks``: the two other kinds of change;
- ``pipeline.runs``: one run's bookkeeping (``with run(...)``);
- ``pipeline.publishing``: the feeds and site rebuilt from the database.

Each step opens its own session and passes only ids and counts on, so that a flow can run
it as a Prefect task and its inputs and results stay small and serialisable.
"""
