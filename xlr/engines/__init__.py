"""Execution engines beyond one process: :mod:`xlr.engines.ray_engine` (optional, ``pip install xlr[ray]``)."""
