"""Proches aidants: delegation of access to a carer (portal.md §5.8)."""
