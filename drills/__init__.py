"""Failure drills (issue 16 §7): each starts the real processes on loopback, breaks something on
purpose, and prints what it found. `python -m drills.<name> --help`."""
