"""The professionals' login: identifiant (RPPS) + mot de passe, then a one-time code by e-mail;
the « code first » road when the RPPS is under attack; a passkey; and the professional's
« appareils associés ».

Real professionals sign in to the DMP with their CPS / e-CPS card or Pro Santé Connect
(mes-spec §5.7); this self-hosted version uses the same steps as the citizens' login, through
the same identity actions (throttling without lock-out, single-use codes, passkeys). Between the
two steps the session holds only the pending user's id: nobody is logged in until the code is
right.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from mes.fhir.auth.oauth import redirect_origin_of
from mes.identity.models import Professional, User
from mes.web.login_code import CodeFirstRoad, OneTimeCodeStep, PasswordStep
from mes.web.passkey_pages import PasskeyPages, PasskeySignIn

from ..access import professional_view, public_view
from ..rendering import render_pro
from .forms import ProCodeFirstForm, ProCodeFirstStartForm, ProLoginForm

PENDING_LOGIN_KEY = "mes_pro_pending_login"
CODE_FIRST_KEY = "mes_pro_code_first_login"
PASSKEY_LOGIN = "pro-login"

# Step 2 of the login, shared with the citizen portal and the desk (mes/web/login_code.py). It
# signs in for practice software too (the OAuth authorization request in `next`).
LOGIN_CODE = OneTimeCodeStep(
    namespace="pro",
    kind=User.Kind.PROFESSIONAL,
    session_key=PENDING_LOGIN_KEY,
    template="pro/account/login_code.html",
    home="pro:home",
    # Only a login with a professional behind it: step 1 checks it, and the code, the « code
    # d'abord » road and a passkey check it again (fail closed).
    accepts=Q(professional__isnull=False),
    client_origin=redirect_origin_of,
)


def _is_professional(user: Any) -> bool:
    return bool(user.is_authenticated and Professional.objects.filter(user_id=user.pk).exists())


# Step 1, shared with the citizen portal and the desk: RPPS and password, the code by e-mail.
login_view = PasswordStep(
    step=LOGIN_CODE,
    form=ProLoginForm,
    template="pro/account/login.html",
    signed_in=_is_professional,
).view()
login_code = LOGIN_CODE.view()


@require_POST
@public_view
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only, so that no link or image can log a professional out."""
    logout(request)
    messages.success(request, "Vous êtes déconnecté de l'espace professionnel.")
    return redirect("pro:login")


# --- « Recevoir un code d'abord » -------------------------------------------------------------


CODE_FIRST = CodeFirstRoad(
    step=LOGIN_CODE,
    session_key=CODE_FIRST_KEY,
    start_form=ProCodeFirstStartForm,
    check_form=ProCodeFirstForm,
    start_template="pro/account/login_code_first.html",
    check_template="pro/account/login_code_first_check.html",
)
login_code_first = CODE_FIRST.start_view()
login_code_first_check = CODE_FIRST.check_view()


# --- Passkeys ----------------------------------------------------------------------------------

PASSKEY_SIGN_IN = PasskeySignIn(step=LOGIN_CODE, challenge=PASSKEY_LOGIN)
passkey_login_options = PASSKEY_SIGN_IN.options_view()
passkey_login = PASSKEY_SIGN_IN.view()

# « Appareils associés »: the pages shared with the citizen portal (mes/web/passkey_pages.py).
PASSKEY_PAGES = PasskeyPages(
    namespace="pro",
    template="pro/account/passkeys.html",
    protect=professional_view,
    example="Poste du cabinet",
    render=render_pro,
)
