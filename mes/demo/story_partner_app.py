"""The sample partner app « Glycémie Plus » (partner_app/, served by `mes demo` on port 8001) as
a referenced service exchanging data: a public OAuth client (PKCE) whose redirect URI is the
app's own page, and the purposes a glucose-meter companion asks for. Louise pairs it herself in
the browser during the demo (nothing is paired in advance). Idempotent: keyed on the slug."""

from __future__ import annotations

from mes.catalogue.models import Category, DataCategory, ExchangeAction, Service
from mes.catalogue.registry import ExchangeSpec, PurposeSpec, reference_service

from .dataset import LoadReport
from .story_catalogue import GLUCOSE_APP_SLUG, logo_of

PARTNER_SLUG = GLUCOSE_APP_SLUG  # its logo is drawn beside the demo catalogue's
PARTNER_CLIENT_ID = "glycemie-plus-demo"  # partner_app/__main__.py DEMO_CLIENT_ID
PARTNER_OID = "1.2.250.1.999.42"  # partner_app/__main__.py DEMO_EDITOR_OID
PARTNER_PORT = 8001
PARTNER_URL = f"http://127.0.0.1:{PARTNER_PORT}"

PURPOSES = (
    PurposeSpec(
        code="11",
        label="Ajouter mon glucose sanguin",
        description=(
            "Glycémie Plus ajoute à mes mesures de santé les glycémies relevées par mon capteur."
        ),
        exchanges=[
            ExchangeSpec(
                DataCategory.MEASURES,
                ExchangeAction.WRITE,
                "glucose interstitiel, HbA1c, index de gestion de glycémie",
            )
        ],
    ),
    PurposeSpec(
        code="12",
        label="Consulter mes mesures de glycémie",
        description="Glycémie Plus affiche les glycémies déjà présentes dans mon espace.",
        exchanges=[ExchangeSpec(DataCategory.MEASURES, ExchangeAction.READ, "glycémie")],
    ),
    PurposeSpec(
        code="31",
        label="Ajouter mes rapports de glycémie",
        description=(
            "Glycémie Plus dépose dans mes documents le rapport quotidien de mon capteur "
            "(profil glycémique ambulatoire)."
        ),
        exchanges=[ExchangeSpec(DataCategory.DOCUMENTS, ExchangeAction.WRITE, "rapport AGP")],
    ),
)


def load_partner_app_story() -> LoadReport:
    report = LoadReport()
    if Service.objects.filter(slug=PARTNER_SLUG).exists():
        return report
    referenced = reference_service(
        oid=PARTNER_OID,
        slug=PARTNER_SLUG,
        name="Glycémie Plus",
        editor_name="Glycémie Plus SAS (application de démonstration)",
        category=Category.CHRONIC,
        summary="Le carnet de glycémie connecté à votre capteur de glucose.",
        description=(
            "Glycémie Plus relève les mesures de votre capteur de glucose en continu, calcule "
            "votre temps dans la cible et prépare chaque jour un rapport à montrer à votre "
            "médecin. Avec votre accord, il les ajoute à Mon espace santé."
        ),
        redirect_uris=f"{PARTNER_URL}/retour-mes",
        purposes=PURPOSES,
        client_id=PARTNER_CLIENT_ID,
        web_url=PARTNER_URL,
        pairing_url=PARTNER_URL,
    )
    logo_of(referenced.service)
    report.add("services du catalogue")
    return report
