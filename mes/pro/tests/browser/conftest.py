"""Browser tests of the Web PS: the portal's Chromium, page fixture and axe-core check, reused.

Every test in this folder is marked `browser` (the portal's hook marks only its own folder).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from mes.conftest import PASSWORD
from mes.identity.models import Professional, User
from mes.portal.tests.browser.conftest import (  # noqa: F401  (fixtures)
    CODE_BUTTON,
    CODE_LABEL,
    LOGIN_BUTTON,
    browser,
    check_a11y,
    page,
)

HERE = Path(__file__).resolve().parent

__all__ = ["check_a11y", "pro_login", "with_email"]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def with_email(professional: Professional) -> Professional:
    """The professional's login gets an e-mail address: the login code is sent there."""
    address = f"{professional.first_name.lower()}.{professional.last_name.lower()}@pro.example.org"
    User.objects.filter(pk=professional.user_id).update(email=address)
    return professional


def login_code_for(professional: Professional) -> str:
    address = User.objects.get(pk=professional.user_id).email
    for message in reversed(mail.outbox):
        if address in message.to:
            found = re.search(rf"\b(\d{{{settings.MES_OTP_DIGITS}}})\b", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"No one-time code was e-mailed to {address}: {mail.outbox!r}")


def submit_password(pg: Any, *, rpps: str | None = None, password: str = PASSWORD) -> None:
    if rpps is not None:
        pg.get_by_label(re.compile(r"^Identifiant")).fill(rpps)
        pg.get_by_label("Mot de passe").fill(password)
    pg.get_by_role("button", name=LOGIN_BUTTON).click()


def pro_login(pg: Any, professional: Professional) -> None:
    """The two-step login of the Web PS, with the code received by e-mail."""
    with_email(professional)
    pg.goto("/pro/connexion/")
    submit_password(pg, rpps=professional.rpps)
    pg.wait_for_url("**/pro/connexion/code/")
    pg.get_by_label(CODE_LABEL).fill(login_code_for(professional))
    pg.get_by_role("button", name=CODE_BUTTON).click()
    pg.wait_for_url(lambda url: "/connexion/" not in url)
