"""Generators of the measured results in docs/ (not part of the `quantopt` package). Run with
`PYTHONPATH=scripts /usr/bin/python3 -m results.<module>`; docs/python.md."""
