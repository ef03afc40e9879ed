"""Login in two steps (identifiant + mot de passe, then a one-time code), the « code first »
road that stays open to the owner of an identifier under attack, the passkey sign-in, logout,
the first-login onboarding and the demo outbox (mes-spec §3.3, portal.md §1.5 and §11.3).

Between the two login steps the session holds only the pending user's id: nobody is logged in
until the code is right.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from mes.access.actions import privacy_settings_of, privacy_update
from mes.demo.models import OutboxMessage
from mes.identity.models import User
from mes.web.access import public_view
from mes.web.login_code import (
    RESEND_ACTION,  # noqa: F401  (the tests post it)
    CodeFirstRoad,
    OneTimeCodeStep,
    PasswordStep,
)
from mes.web.passkey_pages import PasskeySignIn

from ..access import PortalRequest, demo_view, patient_view
from .forms import CodeFirstForm, CodeFirstStartForm, LoginForm, OnboardingForm

PENDING_LOGIN_KEY = "mes_pending_login"
CODE_FIRST_KEY = "mes_code_first_login"
PASSKEY_LOGIN = "login"
DEMO_OUTBOX_SHOWN = 100

# Step 2 of the login, shared with the Web PS and the desk (mes/web/login_code.py).
LOGIN_CODE = OneTimeCodeStep(
    namespace="portal",
    kind=User.Kind.CITIZEN,
    session_key=PENDING_LOGIN_KEY,
    template="portal/account/login_code.html",
    home="portal:home",
    offers_sms=True,
)


# Step 1, shared with the Web PS and the desk: identifiant, password and the code's channel.
login_view = PasswordStep(
    step=LOGIN_CODE,
    form=LoginForm,
    template="portal/account/login.html",
    signed_in=lambda user: getattr(user, "citizen", None) is not None,
).view()
login_code = LOGIN_CODE.view()


# --- « Recevoir un code d'abord » -------------------------------------------------------------

CODE_FIRST = CodeFirstRoad(
    step=LOGIN_CODE,
    session_key=CODE_FIRST_KEY,
    start_form=CodeFirstStartForm,
    check_form=CodeFirstForm,
    start_template="portal/account/login_code_first.html",
    check_template="portal/account/login_code_first_check.html",
)
login_code_first = CODE_FIRST.start_view()
login_code_first_check = CODE_FIRST.check_view()


# --- Passkey sign-in (portal.md §11.3) ----------------------------------------------------------

PASSKEY_SIGN_IN = PasskeySignIn(step=LOGIN_CODE, challenge=PASSKEY_LOGIN)
passkey_login_options = PASSKEY_SIGN_IN.options_view()
passkey_login = PASSKEY_SIGN_IN.view()


@require_POST
@public_view
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only, so that no link or image can log a person out."""
    logout(request)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("portal:login")


@require_http_methods(["GET", "POST"])
@patient_view
def onboarding(request: PortalRequest) -> HttpResponse:
    """First login: default confidentiality and emergency access (portal.md §1.5, §5.2.3).

    Always about the citizen's own profile, whichever profile is being viewed.
    """
    current = privacy_settings_of(request.citizen)
    if current.onboarded_at is not None:
        return redirect("portal:home")
    initial = {
        "confidentiality": OnboardingForm.MASKED
        if current.mask_new_documents
        else OnboardingForm.VISIBLE,
        "samu": not current.oppose_centre_15,
        "break_glass": not current.oppose_break_glass,
        "reveals_masked": current.emergency_reveals_masked,
    }
    form = OnboardingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        privacy_update(
            actor=request.actor,
            patient_id=request.citizen.pk,
            mask_new_documents=data["confidentiality"] == OnboardingForm.MASKED,
            oppose_centre_15=not data["samu"],
            oppose_break_glass=not data["break_glass"],
            emergency_reveals_masked=data["reveals_masked"],
            onboarding_done=True,
        )
        messages.success(
            request,
            "Vos préférences sont enregistrées. Vous pouvez les changer à tout moment dans les "
            "paramètres.",
        )
        return redirect("portal:home")
    return render(request, "portal/account/onboarding.html", {"form": form})


@require_http_methods(["GET"])
@demo_view
def demo_outbox(request: HttpRequest) -> HttpResponse:
    """Demo only: every e-mail and SMS the demo « sent », newest first (login codes included)."""
    return render(
        request,
        "portal/account/demo_outbox.html",
        {
            "outbox": OutboxMessage.objects.order_by("-sent_at", "-pk")[:DEMO_OUTBOX_SHOWN],
            "shown_max": DEMO_OUTBOX_SHOWN,
            "login_url": reverse("portal:login"),
        },
    )
