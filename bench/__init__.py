"""Benchmarks of the FHIR MHD API (ITI-67 search, ITI-65 deposit) against a bare baseline.

Run `make bench` or `uv run python -m bench --help`; bench/README.md explains the figures.
"""
