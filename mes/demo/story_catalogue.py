"""The demo's Catalogue de services (wave2.md §1.4): eight invented services (no real brand), in
every thématique, some « avec échange de données », some without; one in pré-série, one
suspended, one offline; each with its logo drawn for the demo (mes/catalogue/static/catalogue/
logos/, copied into the media storage like an operator's upload).

- Jacqueline Moreau synchronised « Tension Facile » two months ago; its editor has since asked for
  new rights (adding a purpose), so her Services synchronisés shows the re-approval banner, and
  Isabelle, her proche aidante, sees it without being able to change it.

The sample glucose app's own service (`GLUCOSE_APP_SLUG`) is referenced with its OAuth client by
the sample app's loader, not here; its logo is ready beside the others.

Idempotent: each service is keyed on its slug, the pairing on (service, espace).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from mes.catalogue.models import (
    Consent,
    DataCategory,
    ExchangeAction,
    Pairing,
    Purpose,
    PurposeExchange,
    Service,
)
from mes.catalogue.registry import ExchangeSpec, PurposeSpec, reference_service
from mes.identity.models import Citizen

from .dataset import PEOPLE

# The sample glucose meter's companion app (issue 11 item 4): referenced by its own loader with
# its redirect URI; the slug and the logo are reserved here.
GLUCOSE_APP_SLUG = "glycemie-plus"
LOGOS = Path(__file__).resolve().parents[1] / "catalogue" / "static" / "catalogue" / "logos"
DEMO_REDIRECT = "http://127.0.0.1:8000/demo/retour-service"  # never called: no client secret

W, R = ExchangeAction.WRITE, ExchangeAction.READ

SERVICES: tuple[dict[str, Any], ...] = (
    {
        "slug": "tension-facile",
        "oid": "1.2.250.1.999.101",
        "name": "Tension Facile",
        "editor_name": "Cardio Quotidien SAS",
        "category": "maladie_chronique",
        "summary": "Le carnet de tension artérielle relié à votre tensiomètre.",
        "description": (
            "Tension Facile enregistre vos mesures de tension artérielle et de fréquence "
            "cardiaque prises à domicile, vous rappelle les automesures conseillées (règle des "
            "trois) et prépare un relevé à montrer à votre médecin.\n\nAvec votre accord, il "
            "ajoute vos mesures à votre profil Mon espace santé."
        ),
        "status": Service.Status.ONLINE,
        "exchange": True,
        "purposes": (
            PurposeSpec(
                "22",
                "Ajouter ma tension artérielle",
                "Le service ajoute à mes mesures la tension qu'il a relevée.",
                [ExchangeSpec(DataCategory.MEASURES, W, "tension artérielle, fréquence cardiaque")],
            ),
        ),
        # Published later, with the new rights Jacqueline must approve.
        "new_purpose": PurposeSpec(
            "32",
            "Ajouter mes relevés de tension",
            "Le service dépose dans mes documents le relevé mensuel de mes automesures.",
            [ExchangeSpec(DataCategory.DOCUMENTS, W, "relevé d'automesure tensionnelle")],
        ),
    },
    {
        "slug": "rendez-vous-sante-proche",
        "oid": "1.2.250.1.999.102",
        "name": "Rendez-vous Santé Proche",
        "editor_name": "Agenda Soins Coopérative",
        "category": "rendez_vous",
        "summary": "Prendre rendez-vous chez les professionnels de santé de son quartier.",
        "description": (
            "Trouvez un créneau chez un médecin, un kinésithérapeute ou un dentiste près de chez "
            "vous. Avec votre accord, vos rendez-vous s'ajoutent à l'agenda de Mon espace santé."
        ),
        "status": Service.Status.ONLINE,
        "exchange": True,
        "purposes": (
            PurposeSpec(
                "41",
                "Ajouter mes rendez-vous",
                "Le service ajoute à mon agenda les rendez-vous pris chez lui.",
                [ExchangeSpec(DataCategory.AGENDA, W), ExchangeSpec(DataCategory.AGENDA, R)],
            ),
        ),
    },
    {
        "slug": "teleconsult-express",
        "oid": "1.2.250.1.999.103",
        "name": "Téléconsult' Express",
        "editor_name": "Médecins Connectés",
        "category": "teleconsultation",
        "summary": "Une téléconsultation avec un médecin, sept jours sur sept.",
        "description": (
            "Consultez un médecin en vidéo. Avec votre accord, le compte rendu de la "
            "consultation et l'ordonnance sont déposés dans vos documents. Service en pré-série : "
            "ouvert à un petit nombre de personnes avant son ouverture à tous."
        ),
        "status": Service.Status.PRESERIES,
        "exchange": True,
        "purposes": (
            PurposeSpec(
                "33",
                "Ajouter mes comptes rendus de téléconsultation",
                "Le service dépose dans mes documents le compte rendu et l'ordonnance.",
                [ExchangeSpec(DataCategory.DOCUMENTS, W, "compte rendu, ordonnance")],
            ),
            PurposeSpec(
                "51",
                "Recevoir ma synthèse médicale",
                "J'envoie au médecin la synthèse de mon profil médical avant la consultation.",
                [ExchangeSpec(DataCategory.PROFILE, R, "synthèse du profil médical")],
            ),
        ),
    },
    {
        "slug": "pas-a-pas",
        "oid": "1.2.250.1.999.104",
        "name": "Pas à Pas",
        "editor_name": "Marche et Forme SAS",
        "category": "bien_etre",
        "summary": "Bouger un peu plus chaque jour, à son rythme.",
        "description": (
            "Un programme de marche progressif et le suivi de votre poids. Le service est "
            "suspendu le temps d'une vérification de sa conformité au référentiel."
        ),
        "status": Service.Status.SUSPENDED,
        "exchange": True,
        "purposes": (
            PurposeSpec(
                "23",
                "Ajouter mon poids",
                "Le service ajoute à mes mesures le poids relevé par ma balance.",
                [ExchangeSpec(DataCategory.MEASURES, W, "poids")],
            ),
        ),
    },
    {
        "slug": "sommeil-serein",
        "oid": "1.2.250.1.999.105",
        "name": "Sommeil Serein",
        "editor_name": "Nuits Calmes",
        "category": "bien_etre",
        "summary": "Un carnet de sommeil et des exercices de relaxation.",
        "description": "Notez vos nuits et suivez des séances de relaxation guidées.",
        "status": Service.Status.OFFLINE,
        "exchange": False,
    },
    {
        "slug": "souffle-libre",
        "oid": "1.2.250.1.999.106",
        "name": "Souffle Libre",
        "editor_name": "Association Air Pur",
        "category": "prevention",
        "summary": "Un accompagnement gratuit pour arrêter de fumer.",
        "description": (
            "Un programme personnalisé, des conseils quotidiens et une communauté d'entraide "
            "pour arrêter le tabac ou le vapotage."
        ),
        "status": Service.Status.ONLINE,
        "exchange": False,
    },
    {
        "slug": "memo-vaccins-famille",
        "oid": "1.2.250.1.999.107",
        "name": "Mémo Vaccins Famille",
        "editor_name": "Prévention Enfance",
        "category": "prevention",
        "summary": "Les rappels de vaccins de toute la famille.",
        "description": (
            "Un calendrier des vaccinations recommandées pour chaque membre de la famille, avec "
            "des rappels avant chaque échéance."
        ),
        "status": Service.Status.ONLINE,
        "exchange": False,
    },
    {
        "slug": "info-sante-region",
        "oid": "1.2.250.1.999.108",
        "name": "Info Santé Région",
        "editor_name": "Observatoire régional de santé",
        "category": "information",
        "summary": "Les informations de santé publique de votre région.",
        "description": (
            "Alertes pollens et canicule, campagnes de dépistage, lieux de vaccination : "
            "l'actualité de santé publique près de chez vous."
        ),
        "status": Service.Status.ONLINE,
        "exchange": False,
    },
)


def logo_of(service: Service) -> int:
    """Give the service its demo logo (copied into the media storage like an upload), once."""
    if service.logo:
        return 0
    path = LOGOS / f"{service.slug}.svg"
    if not path.exists():
        return 0
    service.logo.save(f"{service.slug}.svg", ContentFile(path.read_bytes()))
    return 1


def _reference(spec: dict[str, Any]) -> tuple[Service, bool]:
    found = Service.objects.filter(slug=spec["slug"]).first()
    if found is not None:
        return found, False
    links: dict[str, Any] = (
        {
            "ios_url": f"https://apps.exemple.fr/ios/{spec['slug']}",
            "android_url": f"https://apps.exemple.fr/android/{spec['slug']}",
        }
        if spec["exchange"]
        else {}
    )
    service = reference_service(
        oid=spec["oid"],
        slug=spec["slug"],
        name=spec["name"],
        editor_name=spec["editor_name"],
        category=spec["category"],
        summary=spec["summary"],
        description=spec["description"],
        redirect_uris=DEMO_REDIRECT if spec["exchange"] else "",
        purposes=spec.get("purposes", ()),
        status=spec["status"],
        web_url=f"https://{spec['slug']}.exemple.fr/",
        cgu_url=f"https://{spec['slug']}.exemple.fr/cgu",
        pairing_url=(f"https://{spec['slug']}.exemple.fr/synchroniser" if spec["exchange"] else ""),
        **links,
    ).service
    return service, True


def _jacqueline_pairing(service: Service, new_purpose: PurposeSpec) -> int:
    """Jacqueline synchronised the service two months ago; then its new rights were published:
    a purpose added, approval due in MES_CATALOGUE_REAPPROVAL_PERIOD minus ten days."""
    person = next(p for p in PEOPLE if p.key == "jacqueline")
    jacqueline = Citizen.objects.filter(ins=person.ins).first()
    if jacqueline is None or jacqueline.user is None:
        return 0
    if Pairing.objects.filter(service=service, patient=jacqueline).exists():
        return 0
    now = timezone.now()
    pairing = Pairing.objects.create(
        service=service,
        patient=jacqueline,
        granted_by=jacqueline.user,
        approved_version=service.rights_version,
        created_at=now - timedelta(days=60),
    )
    Consent.objects.bulk_create(
        Consent(pairing=pairing, purpose=p, given_at=pairing.created_at)
        for p in service.purposes.all()
    )
    service.rights_version += 1
    service.save(update_fields=["rights_version"])
    purpose = Purpose.objects.create(
        service=service,
        code=new_purpose.code,
        label=new_purpose.label,
        description=new_purpose.description,
        since_version=service.rights_version,
    )
    PurposeExchange.objects.bulk_create(
        PurposeExchange(purpose=purpose, category=e.category, action=e.action, details=e.details)
        for e in new_purpose.exchanges
    )
    pairing.reapproval_deadline = (
        now + settings.MES_CATALOGUE_REAPPROVAL_PERIOD - timedelta(days=10)
    )
    pairing.save(update_fields=["reapproval_deadline"])
    return 1


@transaction.atomic
def load_catalogue_stories() -> dict[str, int]:
    created = {"services du catalogue": 0, "logos": 0, "services synchronisés": 0}
    for spec in SERVICES:
        service, new = _reference(spec)
        created["services du catalogue"] += int(new)
        created["logos"] += logo_of(service)
        if spec.get("new_purpose") is not None:
            created["services synchronisés"] += _jacqueline_pairing(service, spec["new_purpose"])
    return created
