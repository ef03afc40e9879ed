"""Signing an agent or operator in to the back office in tests: the password, then the code
e-mailed to them (the desk's two steps), as the login pages ask."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from mes.conftest import PASSWORD


def emailed_code() -> str:
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def desk_login(client: Client, username: str) -> Any:
    """Both steps of the desk's login; the answer to the code (a redirect when accepted)."""
    response = client.post(
        reverse("backoffice:login"), {"identifier": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == reverse("backoffice:login_code")
    answer = client.post(reverse("backoffice:login_code"), {"code": emailed_code()})
    mail.outbox.clear()
    return answer
