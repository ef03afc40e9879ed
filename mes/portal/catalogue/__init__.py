"""Catalogue de services and Services synchronisés (portal.md §5.5, wave2.md §1.4)."""
