"""Notifying through every channel (portal.md §7): the in-app centre, e-mail, SMS, and postal
letters for people with neither e-mail nor mobile phone.

`notify_through_channels(...)` is the one function other apps call: it adds the notification to
the profile's centre (the existing `notify()`), then writes one outbox row (`Delivery`) per
recipient account and channel chosen in their preferences, in the caller's transaction. After
commit, the worker sends them (`dispatch_pending`): e-mails and SMS are generic — they say that
a notification is waiting, never what it is about (no health detail, no INS); letters are
printed in batches (`print_letters`, a PDF with reportlab).

Security events (accesses by professionals, emergency accesses, account security) cannot be
turned off; one-time codes never go through here (mes.identity sends them at once).

One module per area:

- rules: each code's category, what cannot be turned off, what may go by letter, who is told,
  the generic texts;
- preferences: each account's choice of channels per category (read, list, save);
- person: the per-person writer (`notify_through_channels`, `notify_once`);
- many: the batch writer in Python (`Event`, `notify_many`), SQLite's path and the reference;
- set_based: the one SQL statement that writes notifications in bulk on PostgreSQL
  (`notify_select`) and its entries (`notify_each`, `notify_events`);
- dispatch: sending the outbox's e-mails and SMS (`dispatch_batch`, `enqueue_dispatch`);
- letters: printing the pending letters (`print_letters`).

The modules above are the places to import from. This package re-exports only the names other
apps imported from the single module it replaces, so that code written against it (`from
mes.notifications.channels import notify_through_channels`) keeps working.
"""

from __future__ import annotations

from .dispatch import dispatch_pending
from .many import Event, notify_many
from .person import notify_once, notify_through_channels
from .preferences import preferences_of, preferences_record
from .set_based import notify_each, notify_events, notify_select

__all__ = [
    "Event",
    "dispatch_pending",
    "notify_each",
    "notify_events",
    "notify_many",
    "notify_once",
    "notify_select",
    "notify_through_channels",
    "preferences_of",
    "preferences_record",
]
