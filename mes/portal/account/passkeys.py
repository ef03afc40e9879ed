"""« Appareils associés » (portal.md §11.3): the citizen's passkeys, listed, added, renamed and
removed — the pages shared with the Web PS (mes/web/passkey_pages.py), behind the portal's
access declaration. Always about the signed-in citizen's own login, whichever profile is being
viewed."""

from __future__ import annotations

from mes.web.passkey_pages import PasskeyPages

from ..access import patient_view

PAGES = PasskeyPages(
    namespace="portal",
    template="portal/account/passkeys.html",
    protect=patient_view,
    example="Mon téléphone",
)
