"""CORS for the origins of registered browser apps (issue 12 §2), through django-cors-headers."""

from __future__ import annotations

from mes.fhir.models import register_client
from mes.fhir.tests.conftest import issue_token

APP_ORIGIN = "https://app.exemple.fr"


def _browser_app():
    registered = register_client(
        software_name="AppWeb",
        software_version="1",
        redirect_uris=f"{APP_ORIGIN}/callback",
        confidential=False,
    )
    application = registered.client.application
    application.allowed_origins = f"{APP_ORIGIN} https://autre.exemple.fr"
    application.save()
    return application


def test_a_registered_origin_may_call_the_api(client, dr_martin, camille):
    application = _browser_app()
    preflight = client.options(
        "/fhir/DocumentReference",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-mes-mode-acces",
        },
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "x-mes-mode-acces" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight
    raw, _ = issue_token(application, user=dr_martin.user, scopes=["user/Patient.read"])
    response = client.get(
        f"/fhir/Patient/{camille.pk}",
        headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "www-authenticate" in response["Access-Control-Expose-Headers"]
    token = client.options(
        "/o/token/", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert token["Access-Control-Allow-Origin"] == APP_ORIGIN


def test_any_other_origin_gets_no_cors_header(client, db):
    _browser_app()
    for origin in ("https://evil.exemple.com", "https://app.exemple.fr.evil.com", "null"):
        preflight = client.options(
            "/fhir/DocumentReference",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert "Access-Control-Allow-Origin" not in preflight
    # The portal is never opened to another origin, registered or not.
    portal = client.get("/", headers={"Origin": APP_ORIGIN})
    assert "Access-Control-Allow-Origin" not in portal
