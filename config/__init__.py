"""The bottom layer: what the user configures, and every default, in one place.

``config.defaults`` (paths, URLs, windows), ``config.documents`` (what a tracked document
is), ``config.sources`` (sources.toml, parsed and validated), ``config.noise`` (the noise
profiles, one file each in ``config/profiles/``) and ``config.run`` (the parameters of one
run). It imports nothing else of policywatch; every layer may import it.
"""
