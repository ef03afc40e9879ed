"""Mon histoire de santé: care history fed by Assurance Maladie (portal.md §2.2)."""
