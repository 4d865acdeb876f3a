"""Benchmarks of the site (not part of the test run): `bench/run.py` is the one command."""
