"""Operators' back office: the support desk (3422) and the catalogue's operators."""
