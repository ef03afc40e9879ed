"""Agenda santé: appointments, the prevention calendar, reminders (portal.md §8)."""
