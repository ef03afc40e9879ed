from typing import Any

from django.apps import AppConfig


def _record_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Remember each citizen login's session so the account page can list and end it
    (portal.md §5.7). Bookkeeping only: no rule lives here."""
    from mes.identity.models import User

    from .account import session_record

    if getattr(user, "kind", None) != User.Kind.CITIZEN or request is None:
        return
    if request.session.session_key is None:
        request.session.save()
    session_record(
        user=user,
        session_key=request.session.session_key,
        user_agent=request.headers.get("User-Agent", ""),
    )


class EnrolmentConfig(AppConfig):
    name = "mes.enrolment"
    label = "enrolment"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_record_session, dispatch_uid="mes.enrolment.sessions")
