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

Import from the module that holds a name: the package itself exports nothing.
"""
