"""The demo dataset: the stories of the seeds, told with French medical documents.

- Louise Dupont, 45: a type 2 diabetes found by her médecin traitant, followed by a
  diabétologue, then a heart failure followed by a cardiologue, with her care team (biologiste,
  infirmier, pharmacienne, pédicure-podologue, masseur-kinésithérapeute).
- Jacqueline Moreau, 80: retired, little at ease with computers; her daughter Isabelle is her
  proche aidante (story_carers.py).
- Claire Lambert and her son Léo, 6: Claire is Léo's legal representative.

Everything goes through the domain actions (document_deposit, document_content,
document_set_masked), so documents are encrypted in the vault, traced and notified exactly as in
real use. The stories happen over the 18 months before the load: each step runs with the clock
set to its date, so documents, traces and notifications carry the dates of the story.

Idempotent: people are keyed on INS, professionals on RPPS, structures on FINESS, documents on a
stable unique_id, reads and masking on their trace; a second load creates nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from unittest import mock
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, citizen_actor, professional_actor
from mes.access.models import PrivacySettings, ProfessionalAccess, TreatingSource
from mes.audit import trace
from mes.audit.models import Trace, TraceAction
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen, Organisation, Professional, User
from mes.lib.ins import with_key
from mes.notifications.models import Notification
from mes.records.actions import document_content, document_deposit, document_set_masked
from mes.records.models import Document

from . import pdfs
from .pdfs import Heading, Rows

# One password for every demo login; it satisfies the password rules (≥ 9 characters, lower and
# upper case, digit, special character). Printed by `mes demo`: a demo secret, not a secret.
DEMO_PASSWORD = "Demo-Sante-2026!"  # noqa: S105
# Length of the stories, counted back from the day of the load.
STORY_DAYS = 540
PARIS = ZoneInfo("Europe/Paris")
# Notifications of documents older than this are shown as already read.
UNREAD_NOTIFICATIONS = timedelta(days=100)
# Stable document identifiers: UUID-derived OIDs (2.25, ITU-T X.667) from a fixed namespace.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mon-espace-sante.example/demo")


# --- The cast ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    key: str
    username: str | None
    first13: str  # 13 first characters of the NIR: sex, year, month, place, order
    first_name: str
    first_names: str
    birth_name: str
    birth_date: date
    sex: str
    used_name: str = ""
    email: str = ""
    phone: str = ""
    onboarded: bool = True
    who: str = ""

    @property
    def ins(self) -> str:
        return with_key(self.first13)


@dataclass(frozen=True)
class MadeCitizen:
    citizen: Citizen
    new: tuple[str, ...]  # what was created now: « utilisateurs », « usagers »


def demo_citizen(p: Person, password_hash: str) -> MadeCitizen:
    """A demo person's citizen row and login (when they have a username), found by INS and
    username or created: the one way every story makes its people (idempotent)."""
    citizen = Citizen.objects.filter(ins=p.ins).first()
    if citizen is not None:
        return MadeCitizen(citizen, ())
    new: list[str] = []
    user = None
    if p.username:
        user = User.objects.filter(username=p.username).first()
        if user is None:
            user = User.objects.create(
                username=p.username,
                password=password_hash,
                email=p.email,
                first_name=p.first_name,
                last_name=p.used_name or p.birth_name,
                phone=p.phone,
                kind=User.Kind.CITIZEN,
            )
            new.append("utilisateurs")
    citizen = Citizen.objects.create(
        user=user,
        ins=p.ins,
        birth_name=p.birth_name,
        used_name=p.used_name,
        first_names=p.first_names,
        first_name=p.first_name,
        birth_date=p.birth_date,
        sex=p.sex,
        birth_place_insee=p.first13[5:10],
        email=p.email,
    )
    new.append("usagers")
    return MadeCitizen(citizen, tuple(new))


# Phone numbers in the ranges ARCEP reserves for fiction (06 39 98 xx xx, 01 99 00 xx xx).
PEOPLE = (
    Person(
        key="louise",
        username="louise",
        first13="2810375115042",
        first_name="Louise",
        first_names="Louise Marie",
        birth_name="Dupont",
        birth_date=date(1981, 3, 12),
        sex="F",
        email="louise.dupont@example.org",
        phone="+33639980101",
        who="Louise Dupont, 45 ans : diabète de type 2, puis insuffisance cardiaque ; "
        "son équipe de soins alimente son dossier depuis 18 mois.",
    ),
    Person(
        key="jacqueline",
        username="jacqueline",
        first13="2460669123018",
        first_name="Jacqueline",
        first_names="Jacqueline Paulette",
        birth_name="Garnier",
        used_name="Moreau",
        birth_date=date(1946, 6, 3),
        sex="F",
        email="jacqueline.moreau@example.org",
        phone="+33639980102",
        who="Jacqueline Moreau (née Garnier), 80 ans, retraitée, peu à l'aise avec le "
        "numérique : elle a donné accès à son profil à sa fille Isabelle, sa proche aidante.",
    ),
    Person(
        key="isabelle",
        username="isabelle",
        first13="2720475112027",
        first_name="Isabelle",
        first_names="Isabelle",
        birth_name="Moreau",
        birth_date=date(1972, 4, 21),
        sex="F",
        email="isabelle.moreau@example.org",
        phone="+33639980103",
        who="Isabelle Moreau, 54 ans, fille et proche aidante de Jacqueline : depuis son propre "
        "compte, elle choisit le profil de sa mère et agit pour elle.",
    ),
    Person(
        key="claire",
        username="claire",
        first13="2900944109031",
        first_name="Claire",
        first_names="Claire Anne",
        birth_name="Lambert",
        birth_date=date(1990, 9, 8),
        sex="F",
        email="claire.lambert@example.org",
        phone="+33639980104",
        onboarded=False,
        who="Claire Lambert, 36 ans, maman de Léo (6 ans) dont elle gère le profil ; "
        "première connexion : elle voit la page d'accueil de découverte.",
    ),
    Person(
        key="leo",
        username=None,
        first13="1200575115087",
        first_name="Léo",
        first_names="Léo Paul",
        birth_name="Lambert",
        birth_date=date(2020, 5, 17),
        sex="M",
        who="Léo Lambert, 6 ans : pas d'identifiant, son profil est géré par sa mère Claire.",
    ),
)

REPRESENTATIONS = (("claire", "leo", LegalRepresentation.Role.MOTHER),)


@dataclass(frozen=True)
class Org:
    key: str
    finess: str
    name: str
    kind: str
    city: str
    lines: tuple[str, ...]


ORGS = (
    Org(
        "ch",
        "940019998",
        "Centre hospitalier de Villeneuve",
        Organisation.Kind.HOSPITAL,
        "Villeneuve",
        ("1 avenue des Platanes, 94190 Villeneuve", "Standard : 01 99 00 10 00"),
    ),
    Org(
        "labo",
        "750019990",
        "Laboratoire de biologie médicale BioParc",
        Organisation.Kind.LABORATORY,
        "Paris",
        ("27 rue des Glycines, 75015 Paris", "Tél. : 01 99 00 20 00"),
    ),
    Org(
        "pharmacie",
        "750029991",
        "Pharmacie des Tilleuls",
        Organisation.Kind.PHARMACY,
        "Paris",
        ("8 place des Tilleuls, 75015 Paris", "Tél. : 01 99 00 30 00"),
    ),
    Org(
        "cabinet",
        "750039992",
        "Cabinet médical du Parc",
        Organisation.Kind.PRACTICE,
        "Paris",
        ("3 place des Glycines, 75015 Paris", "Tél. : 01 99 00 40 00"),
    ),
    Org(
        "msp",
        "750049993",
        "Maison de santé pluriprofessionnelle des Glycines",
        Organisation.Kind.PRACTICE,
        "Paris",
        ("41 rue des Glycines, 75015 Paris", "Tél. : 01 99 00 50 00"),
    ),
    Org(
        "samu",
        "940059994",
        "SAMU 94 – Centre 15",
        Organisation.Kind.SAMU,
        "Villeneuve",
        ("Centre de réception et de régulation des appels, 94190 Villeneuve", "Appel : 15"),
    ),
)


@dataclass(frozen=True)
class Pro:
    key: str
    rpps: str
    first_name: str
    last_name: str
    profession: str
    specialty: str
    org: str
    title: str  # as printed on the letterhead
    service: str = ""  # hospital department, on the letterhead

    @property
    def email(self) -> str:
        return f"{self.first_name.lower()}.{self.last_name.lower()}@pro.example.org".replace(
            "é", "e"
        ).replace("è", "e")


PROS = (
    Pro("mt", "10100012345", "Bernard", "Léon", "10", "SM54", "cabinet", "Médecin généraliste"),
    Pro(
        "diabeto",
        "10100023456",
        "Sophie",
        "Cara",
        "10",
        "SM15",
        "ch",
        "Endocrinologue – diabétologue",
        "Service d'endocrinologie, diabétologie et nutrition",
    ),
    Pro(
        "cardio",
        "10100034567",
        "Antoine",
        "Delosto",
        "10",
        "SM04",
        "ch",
        "Cardiologue",
        "Service de cardiologie",
    ),
    Pro(
        "urgentiste",
        "10100045678",
        "Karim",
        "Haddad",
        "10",
        "SM53",
        "ch",
        "Médecin urgentiste",
        "Service des urgences",
    ),
    Pro("bio", "10100056789", "Martine", "Vidal", "10", "SM05", "labo", "Biologiste médicale"),
    Pro("ide", "10100067890", "Julien", "Dormel", "60", "", "msp", "Infirmier diplômé d'État"),
    Pro("pharma", "10100078901", "Agnès", "Cachet", "21", "", "pharmacie", "Docteur en pharmacie"),
    Pro("podo", "10100089012", "Thomas", "Séku", "80", "", "msp", "Pédicure-podologue"),
    Pro("kine", "10100090123", "Nicolas", "Garnier", "70", "", "msp", "Masseur-kinésithérapeute"),
    Pro("pediatre", "10100101234", "Emma", "Rousseau", "10", "SM40", "cabinet", "Pédiatre"),
    Pro(
        "regulateur",
        "10100112345",
        "Nadia",
        "Fontaine",
        "10",
        "SM53",
        "samu",
        "Médecin régulateur",
        "Centre 15",
    ),
)


@dataclass(frozen=True)
class Grant:
    patient: str
    pro: str
    day: int  # day of the story when the patient gave her consent
    treating: bool = False


GRANTS = (
    Grant("louise", "mt", -900, treating=True),
    Grant("louise", "bio", 0),
    Grant("louise", "pharma", 8),
    Grant("louise", "diabeto", 30),
    Grant("louise", "ide", 31),
    Grant("louise", "podo", 60),
    Grant("louise", "cardio", 340),
    Grant("louise", "kine", 418),
    Grant("jacqueline", "mt", -2000, treating=True),
    Grant("jacqueline", "pharma", -400),
    Grant("leo", "pediatre", -1500, treating=True),
)


# --- The documents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    key: str  # stable: the document's unique_id derives from it
    patient: str
    author: str | None  # a Pro key; None: deposited by the patient
    title: str
    day: int  # day of the story of the act (service_date)
    body: list[pdfs.Block]
    type_code: str = ""
    category: str = ""  # for the patient's own deposits
    recipient: str = ""
    deposit_delay: int = 0  # days between the act and the deposit

    @property
    def unique_id(self) -> str:
        return f"2.25.{uuid.uuid5(DEMO_NAMESPACE, self.key).int}"


@dataclass(frozen=True)
class Read:
    day: int
    pro: str
    doc: str


@dataclass(frozen=True)
class Mask:
    day: int
    citizen: str
    doc: str


@dataclass
class Story:
    documents: list[Doc] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    masks: list[Mask] = field(default_factory=list)


def _lab_header(d: date, prescriber: str) -> list[pdfs.Block]:
    return [
        f"Prélèvement du {pdfs.french_date(d)} à 8 h 05, patiente à jeun depuis 12 heures. "
        f"Prescripteur : {prescriber}. Dossier n° BP-{d:%y%m%d}-0417.",
    ]


def _lab_footer() -> list[pdfs.Block]:
    return [
        "Résultats validés biologiquement par le Dr Martine Vidal, biologiste médicale. "
        "Les valeurs de référence sont celles de l'adulte."
    ]


def louise_story(day: Callable[[int], date]) -> Story:
    """Louise's 18 months: diabetes (days 0-125), heart failure (days 330-515)."""
    fr = pdfs.french_date
    mt_recipient = "Au Dr Bernard Léon, Cabinet médical du Parc, 75015 Paris"
    docs = [
        Doc(
            "louise-bio-1",
            "louise",
            "bio",
            "Bilan sanguin – glycémie à jeun et HbA1c",
            0,
            [
                *_lab_header(day(0), "Dr Bernard Léon"),
                Heading("Biochimie sanguine"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence"),
                        ("Glycémie à jeun", "1,42 g/L (7,88 mmol/L)", "0,70 – 1,10 g/L"),
                        ("Hémoglobine glyquée (HbA1c)", "7,8 %", "4,0 – 6,0 %"),
                        ("Créatinine", "68 µmol/L", "45 – 90 µmol/L"),
                        ("DFG estimé (CKD-EPI)", "> 90 mL/min/1,73 m²", "> 90"),
                        ("Cholestérol total", "2,31 g/L", "< 2,00 g/L"),
                        ("Cholestérol HDL", "0,44 g/L", "> 0,40 g/L"),
                        ("Cholestérol LDL calculé", "1,48 g/L", "selon le risque"),
                        ("Triglycérides", "1,95 g/L", "< 1,50 g/L"),
                        ("ALAT", "38 UI/L", "< 35 UI/L"),
                    )
                ),
                Heading("Urines"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence"),
                        ("Microalbuminurie", "18 mg/L", "< 30 mg/L"),
                    )
                ),
                "Commentaire du biologiste : glycémie à jeun et hémoglobine glyquée au-dessus "
                "des seuils. En l'absence d'autre cause, ces valeurs sont compatibles avec un "
                "diabète de type 2, à confirmer par un second dosage. Dyslipidémie associée.",
                *_lab_footer(),
            ],
            type_code="11502-2",
        ),
        Doc(
            "louise-mt-1",
            "louise",
            "mt",
            "Consultation – découverte d'un diabète de type 2",
            7,
            [
                Heading("Motif de consultation"),
                "Fatigue, soif importante et envies fréquentes d'uriner depuis plusieurs "
                "semaines. Résultats du bilan sanguin du " + fr(day(0)) + ".",
                Heading("Antécédents"),
                "Surpoids depuis l'adolescence. Diabète gestationnel en 2012. Mère diabétique "
                "de type 2. Pas d'allergie connue. Non fumeuse.",
                Heading("Examen clinique"),
                "Poids 84 kg, taille 1,65 m, IMC 30,9 kg/m². Pression artérielle 138/86 mmHg, "
                "fréquence cardiaque 78/min. Auscultation cardio-pulmonaire normale. Pouls "
                "pédieux perçus, sensibilité des pieds conservée.",
                Heading("Conclusion"),
                "Diabète de type 2 confirmé : glycémie à jeun à 1,42 g/L et 1,38 g/L, HbA1c à "
                "7,8 %. Dyslipidémie. Contexte de stress professionnel important et troubles du "
                "sommeil, dont nous reparlerons à la prochaine consultation.",
                Heading("Conduite à tenir"),
                "Mesures hygiéno-diététiques, activité physique d'au moins 30 minutes par jour. "
                "Metformine à dose progressive. Lecteur de glycémie pour l'autosurveillance. "
                "Adressée au Dr Sophie Cara, diabétologue, pour un programme d'éducation "
                "thérapeutique. Bilan podologique et fond d'œil à programmer. "
                "Prochaine consultation dans 3 mois avec une HbA1c.",
            ],
            type_code="11488-4",
        ),
        Doc(
            "louise-ordo-1",
            "louise",
            "mt",
            "Ordonnance – traitement du diabète",
            7,
            [
                "Mme Louise Dupont – poids 84 kg.",
                Rows(
                    (
                        ("Prescription", "Posologie", "Durée"),
                        (
                            "Metformine 500 mg, comprimé pelliculé",
                            "1 comprimé matin et soir au milieu des repas pendant 15 jours, "
                            "puis 2 comprimés matin et soir",
                            "3 mois",
                        ),
                        ("Lecteur de glycémie et autopiqueur", "1", "–"),
                        ("Bandelettes d'autosurveillance glycémique", "100", "3 mois"),
                        ("Lancettes", "100", "3 mois"),
                    )
                ),
                "Autosurveillance : glycémie capillaire à jeun 3 fois par semaine et en cas de "
                "malaise. Prévenir le médecin avant tout examen avec injection de produit de "
                "contraste iodé.",
                "Ordonnance à renouveler 1 fois.",
            ],
            type_code="57833-6",
        ),
        Doc(
            "louise-disp-1",
            "louise",
            "pharma",
            "Dispensation – metformine et matériel d'autosurveillance",
            8,
            [
                "Délivrance sur ordonnance du Dr Bernard Léon du " + fr(day(7)) + ".",
                Rows(
                    (
                        ("Produit délivré", "Quantité", "Conseils"),
                        (
                            "Metformine 500 mg, comprimé pelliculé, boîte de 30",
                            "4 boîtes",
                            "au milieu des repas",
                        ),
                        ("Lecteur de glycémie avec autopiqueur", "1", "démonstration faite"),
                        ("Bandelettes réactives, boîte de 50", "2", "–"),
                        ("Lancettes stériles, boîte de 100", "1", "–"),
                    )
                ),
                "Entretien pharmaceutique : les troubles digestifs sont fréquents les premiers "
                "jours et diminuent souvent ; prendre les comprimés au milieu du repas. "
                "Pas d'interaction avec les traitements en cours. Utilisation du lecteur "
                "expliquée, première mesure réalisée à l'officine.",
                "Dossier pharmaceutique mis à jour.",
            ],
            type_code="60593-1",
        ),
        Doc(
            "louise-diabeto-1",
            "louise",
            "diabeto",
            "Courrier de consultation de diabétologie",
            30,
            [
                "Cher confrère,",
                "J'ai vu en consultation Mme Louise Dupont pour la prise en charge du diabète de "
                "type 2 découvert le mois dernier (HbA1c à 7,8 %). La metformine est bien "
                "tolérée à 500 mg matin et soir.",
                Heading("Examen"),
                "Poids 83 kg, IMC 30,5 kg/m², tour de taille 98 cm, PA 134/84 mmHg. Pas de "
                "signe de complication : monofilament perçu, pas de souffle vasculaire.",
                Heading("Proposition"),
                "Augmentation de la metformine à 1 000 mg matin et soir. Capteur de mesure du "
                "glucose en continu, avec l'aide d'un infirmier pour la pose et l'apprentissage. "
                "Inscription au programme d'éducation thérapeutique de l'hôpital (4 séances "
                "collectives) et consultation avec la diététicienne. Objectif : HbA1c "
                "inférieure à 7 %. Fond d'œil demandé, bilan podologique à réaliser.",
                "Je la reverrai dans 6 mois avec une HbA1c, un bilan lipidique et une "
                "microalbuminurie. Je vous prie de croire, cher confrère, en mes sentiments "
                "les meilleurs.",
            ],
            type_code="11488-4",
            recipient=mt_recipient,
            deposit_delay=1,
        ),
        Doc(
            "louise-presc-ide-1",
            "louise",
            "diabeto",
            "Prescription de soins infirmiers – capteur de glucose",
            30,
            [
                "Soins infirmiers à domicile, à réaliser par un infirmier diplômé d'État :",
                "– pose du capteur de mesure du glucose en continu et éducation à son "
                "utilisation et à la lecture des courbes : 2 passages ;",
                "– surveillance glycémique et éducation à l'autosurveillance : 1 passage par "
                "semaine pendant 4 semaines ;",
                "– vérification de la bonne prise du traitement oral.",
                "Compte rendu au médecin traitant à la fin de la prise en charge.",
            ],
            type_code="PRESC-INF",
        ),
        Doc(
            "louise-podo-1",
            "louise",
            "podo",
            "Bilan podologique – pied diabétique",
            60,
            [
                "Bilan réalisé sur prescription du Dr Sophie Cara, diabétologue.",
                Heading("Examen"),
                "Peau : hyperkératose plantaire modérée sous les têtes métatarsiennes. Ongles "
                "sains. Hallux valgus léger à gauche.",
                "Sensibilité : test au monofilament de 10 g perçu 3 fois sur 3 aux deux pieds ; "
                "sensibilité vibratoire au diapason normale.",
                "Vascularisation : pouls pédieux et tibiaux postérieurs perçus.",
                Heading("Gradation du risque podologique"),
                "Grade 0 : pas de neuropathie sensitive, pas d'artériopathie.",
                Heading("Soins et conseils"),
                "Soin de pédicurie (réduction de l'hyperkératose). Conseils donnés : inspecter "
                "ses pieds chaque jour, ne pas marcher pieds nus, chaussures adaptées, "
                "hydratation quotidienne, consulter sans attendre en cas de plaie. "
                "Contrôle dans un an.",
            ],
            type_code="11506-3",
        ),
        Doc(
            "louise-bio-2",
            "louise",
            "bio",
            "Bilan sanguin de suivi du diabète",
            118,
            [
                *_lab_header(day(118), "Dr Bernard Léon"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence", "Antériorité"),
                        ("Glycémie à jeun", "1,18 g/L", "0,70 – 1,10 g/L", "1,42 g/L"),
                        ("Hémoglobine glyquée (HbA1c)", "7,1 %", "4,0 – 6,0 %", "7,8 %"),
                        ("Créatinine", "70 µmol/L", "45 – 90 µmol/L", "68 µmol/L"),
                        ("Cholestérol LDL calculé", "1,21 g/L", "selon le risque", "1,48 g/L"),
                        ("Triglycérides", "1,52 g/L", "< 1,50 g/L", "1,95 g/L"),
                        ("Microalbuminurie", "12 mg/L", "< 30 mg/L", "18 mg/L"),
                    )
                ),
                "Commentaire du biologiste : nette amélioration de l'équilibre glycémique, "
                "HbA1c passée de 7,8 % à 7,1 %. Baisse du LDL-cholestérol.",
                *_lab_footer(),
            ],
            type_code="11502-2",
        ),
        Doc(
            "louise-mt-2",
            "louise",
            "mt",
            "Consultation de suivi du diabète",
            125,
            [
                Heading("Évolution"),
                "Patiente motivée, a suivi les 4 séances d'éducation thérapeutique et voit la "
                "diététicienne. Marche 40 minutes par jour. Capteur de glucose bien utilisé : "
                "temps passé dans la cible de 78 %.",
                Heading("Examen"),
                "Poids 80,5 kg (– 3,5 kg), PA 132/82 mmHg, FC 74/min. Pieds sans lésion.",
                Heading("Résultats"),
                "HbA1c 7,1 % contre 7,8 % il y a 4 mois. Glycémie à jeun 1,18 g/L. Fond d'œil "
                "normal (ophtalmologiste). Fonction rénale normale, pas de microalbuminurie.",
                Heading("Conduite à tenir"),
                "Poursuite de la metformine 1 000 mg matin et soir et des mesures "
                "hygiéno-diététiques. Prochain bilan dans 6 mois : HbA1c, bilan lipidique, "
                "créatinine, microalbuminurie.",
            ],
            type_code="11488-4",
        ),
        Doc(
            "louise-mt-3",
            "louise",
            "mt",
            "Consultation – essoufflement et œdèmes des chevilles",
            330,
            [
                Heading("Motif de consultation"),
                "Essoufflement à l'effort depuis 3 semaines (deux étages), besoin de deux "
                "oreillers pour dormir, chevilles gonflées le soir. Prise de 3 kg en 15 jours.",
                Heading("Examen clinique"),
                "Poids 81 kg, PA 145/90 mmHg, FC 96/min régulière, SpO2 95 %. Crépitants aux "
                "deux bases pulmonaires, œdèmes des membres inférieurs prenant le godet. "
                "Turgescence jugulaire.",
                "ECG : tachycardie sinusale à 96/min, pas de trouble de la repolarisation aigu.",
                Heading("Hypothèse"),
                "Tableau évocateur d'une insuffisance cardiaque chez une patiente diabétique "
                "de type 2.",
                Heading("Conduite à tenir"),
                "NT-proBNP, ionogramme, créatinine, NFS, TSH et HbA1c en urgence. Furosémide "
                "40 mg le matin. Adressée au Dr Antoine Delosto, cardiologue, pour une "
                "échocardiographie dans les 15 jours. Signes d'alerte expliqués : "
                "essoufflement au repos, prise de plus de 2 kg en 3 jours : appeler le 15.",
            ],
            type_code="11488-4",
        ),
        Doc(
            "louise-bio-3",
            "louise",
            "bio",
            "Bilan sanguin – NT-proBNP, ionogramme, HbA1c",
            332,
            [
                *_lab_header(day(332), "Dr Bernard Léon"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence", "Antériorité"),
                        ("NT-proBNP", "1 250 pg/mL", "< 125 pg/mL", "–"),
                        ("Sodium", "138 mmol/L", "136 – 145 mmol/L", "–"),
                        ("Potassium", "4,1 mmol/L", "3,5 – 5,0 mmol/L", "–"),
                        ("Créatinine", "82 µmol/L", "45 – 90 µmol/L", "70 µmol/L"),
                        ("DFG estimé (CKD-EPI)", "78 mL/min/1,73 m²", "> 90", "> 90"),
                        ("Hémoglobine", "12,9 g/dL", "12,0 – 16,0 g/dL", "–"),
                        ("TSH", "1,8 mUI/L", "0,4 – 4,0 mUI/L", "–"),
                        ("Hémoglobine glyquée (HbA1c)", "7,0 %", "4,0 – 6,0 %", "7,1 %"),
                    )
                ),
                "Commentaire du biologiste : NT-proBNP nettement élevé, en faveur d'une "
                "insuffisance cardiaque dans ce contexte clinique. Résultat communiqué par "
                "téléphone au prescripteur le jour même.",
                *_lab_footer(),
            ],
            type_code="11502-2",
        ),
        Doc(
            "louise-echo-1",
            "louise",
            "cardio",
            "Échocardiographie transthoracique",
            345,
            [
                "Indication : dyspnée d'effort, œdèmes, NT-proBNP à 1 250 pg/mL.",
                Heading("Résultats"),
                Rows(
                    (
                        ("Mesure", "Valeur", "Normale"),
                        ("Diamètre télédiastolique du VG", "62 mm", "< 53 mm"),
                        ("FEVG (Simpson biplan)", "35 %", "> 52 %"),
                        ("Volume de l'oreillette gauche", "38 mL/m²", "< 34 mL/m²"),
                        ("TAPSE (ventricule droit)", "19 mm", "> 17 mm"),
                        ("PAPs estimée", "38 mmHg", "< 35 mmHg"),
                    )
                ),
                "Ventricule gauche dilaté, hypokinésie globale sans trouble segmentaire net. "
                "Insuffisance mitrale minime fonctionnelle. Valve aortique normale. Ventricule "
                "droit de taille et de fonction normales. Veine cave inférieure non dilatée. "
                "Pas d'épanchement péricardique.",
                Heading("Conclusion"),
                "Cardiopathie dilatée avec altération de la fonction systolique du ventricule "
                "gauche (FEVG 35 %). Coronarographie à programmer pour en préciser l'origine.",
            ],
            type_code="18748-4",
        ),
        Doc(
            "louise-cardio-1",
            "louise",
            "cardio",
            "Compte rendu de consultation de cardiologie",
            345,
            [
                "Cher confrère,",
                "Merci de m'avoir adressé Mme Louise Dupont pour une dyspnée d'effort avec "
                "œdèmes, chez une patiente diabétique de type 2 bien équilibrée.",
                "Examen : PA 138/88 mmHg, FC 92/min, poids 79 kg après 15 jours de furosémide. "
                "Quelques crépitants aux bases, œdèmes des chevilles en régression.",
                "L'échocardiographie montre une FEVG à 35 % avec un ventricule gauche dilaté.",
                Heading("Diagnostic"),
                "Insuffisance cardiaque à fraction d'éjection réduite, classe NYHA II–III.",
                Heading("Traitement instauré"),
                "Sacubitril/valsartan 24/26 mg matin et soir ; bisoprolol 1,25 mg le matin ; "
                "dapagliflozine 10 mg le matin, utile aussi pour son diabète ; furosémide "
                "40 mg le matin, à adapter au poids. Poursuite de la metformine.",
                "Règles hygiéno-diététiques : moins de 6 g de sel par jour, pesée chaque matin, "
                "appeler si prise de plus de 2 kg en 3 jours.",
                Heading("Suivi"),
                "Ionogramme et créatinine à J15 ; augmentation progressive des doses toutes "
                "les 2 semaines ; coronarographie programmée ; réadaptation cardiaque à prévoir. "
                "Bien confraternellement.",
            ],
            type_code="11488-4",
            recipient=mt_recipient,
            deposit_delay=1,
        ),
        Doc(
            "louise-ordo-2",
            "louise",
            "cardio",
            "Ordonnance – traitement de l'insuffisance cardiaque",
            345,
            [
                Rows(
                    (
                        ("Prescription", "Posologie", "Durée"),
                        ("Sacubitril/valsartan 24 mg/26 mg", "1 comprimé matin et soir", "1 mois"),
                        ("Bisoprolol 1,25 mg", "1 comprimé le matin", "1 mois"),
                        ("Dapagliflozine 10 mg", "1 comprimé le matin", "1 mois"),
                        (
                            "Furosémide 40 mg",
                            "1 comprimé le matin, à adapter au poids",
                            "1 mois",
                        ),
                        ("Pèse-personne (si non équipée)", "1", "–"),
                    )
                ),
                "Analyses à réaliser dans 15 jours : ionogramme sanguin (sodium, potassium), "
                "créatinine.",
                "Poursuivre la metformine 1 000 mg matin et soir (ordonnance du médecin traitant).",
            ],
            type_code="57833-6",
        ),
        Doc(
            "louise-disp-2",
            "louise",
            "pharma",
            "Dispensation – traitement de l'insuffisance cardiaque",
            346,
            [
                "Délivrance sur ordonnance du Dr Antoine Delosto du " + fr(day(345)) + ".",
                Rows(
                    (
                        ("Produit délivré", "Quantité", "Conseils"),
                        ("Sacubitril/valsartan 24 mg/26 mg, boîte de 56", "1", "matin et soir"),
                        ("Bisoprolol 1,25 mg, boîte de 30", "1", "le matin"),
                        ("Dapagliflozine 10 mg, boîte de 30", "1", "le matin"),
                        ("Furosémide 40 mg, boîte de 30", "1", "le matin"),
                    )
                ),
                "Entretien pharmaceutique : rôle de chaque médicament expliqué ; se lever "
                "doucement (risque de vertiges) ; bien s'hydrater en cas de forte chaleur ; "
                "hygiène intime soigneuse avec la dapagliflozine. Pilulier hebdomadaire remis.",
                "Vérification des interactions avec la metformine : pas de contre-indication.",
            ],
            type_code="60593-1",
        ),
        Doc(
            "louise-presc-kine-1",
            "louise",
            "cardio",
            "Prescription de kinésithérapie – réadaptation à l'effort",
            412,
            [
                "Au décours d'une hospitalisation pour décompensation cardiaque.",
                "Séances de masso-kinésithérapie : 20 séances, 2 à 3 par semaine.",
                "– réentraînement progressif à l'effort (marche, ergocycle) ;",
                "– renforcement musculaire des membres inférieurs ;",
                "– travail respiratoire.",
                "Consignes : fréquence cardiaque cible de 100 à 110/min, arrêt de l'effort en "
                "cas de douleur thoracique, de malaise ou d'essoufflement inhabituel. Bilan "
                "initial et final à adresser au prescripteur.",
            ],
            type_code="PRESC-KINE",
        ),
        Doc(
            "louise-presc-ide-2",
            "louise",
            "mt",
            "Prescription de soins infirmiers – surveillance à domicile",
            412,
            [
                "Dans le cadre du retour à domicile après hospitalisation (programme de retour "
                "à domicile pour l'insuffisance cardiaque).",
                "Soins infirmiers à domicile, 2 passages par semaine pendant 2 mois :",
                "– surveillance du poids, de la pression artérielle, de la fréquence cardiaque "
                "et des œdèmes ;",
                "– surveillance de la prise des traitements et préparation du pilulier "
                "hebdomadaire ;",
                "– éducation aux signes d'alerte.",
                "Prévenir le médecin traitant si prise de plus de 2 kg en 3 jours, PA "
                "systolique inférieure à 90 mmHg ou essoufflement au repos.",
            ],
            type_code="PRESC-INF",
        ),
        Doc(
            "louise-kine-1",
            "louise",
            "kine",
            "Bilan masso-kinésithérapique initial – réadaptation",
            420,
            [
                "Bilan réalisé sur prescription du Dr Antoine Delosto, cardiologue.",
                Heading("Évaluation"),
                "Test de marche de 6 minutes : 380 mètres, FC de 72 à 108/min, SpO2 minimale "
                "94 %, essoufflement coté 5 sur 10 (échelle de Borg). Lever de chaise en "
                "30 secondes : 11 répétitions. Pas de douleur.",
                Heading("Objectifs"),
                "Augmenter la distance de marche et l'endurance, renforcer les quadriceps, "
                "rendre la patiente autonome pour une activité physique régulière.",
                Heading("Programme"),
                "20 séances : échauffement, ergocycle en endurance à 60 % de la FC de réserve, "
                "renforcement musculaire, étirements. Carnet d'exercices remis pour la maison.",
                "Bilan de fin de prise en charge adressé au cardiologue et au médecin traitant.",
            ],
            type_code="11506-3",
        ),
        Doc(
            "louise-carnet-1",
            "louise",
            None,
            "Mon carnet de suivi – poids et tension",
            470,
            [
                "Relevés faits chaque matin à la maison, avant le petit-déjeuner, avec ma "
                "balance et mon tensiomètre.",
                Rows(
                    (
                        ("Semaine", "Poids moyen", "Tension moyenne", "Remarques"),
                        ("Semaine 1", "77,8 kg", "118/74", "chevilles un peu gonflées"),
                        ("Semaine 2", "77,5 kg", "116/72", "–"),
                        ("Semaine 3", "77,2 kg", "114/70", "vertiges en me levant vite"),
                        ("Semaine 4", "77,0 kg", "115/71", "marche 45 min sans souci"),
                    )
                ),
                "Questions pour le Dr Delosto : puis-je reprendre la natation ? Faut-il "
                "continuer à me peser le week-end ?",
            ],
            category="ORD_SOIN",
        ),
        Doc(
            "louise-bio-4",
            "louise",
            "bio",
            "Bilan sanguin de suivi – insuffisance cardiaque et diabète",
            500,
            [
                *_lab_header(day(500), "Dr Antoine Delosto"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence", "Antériorité"),
                        ("NT-proBNP", "420 pg/mL", "< 125 pg/mL", "1 250 pg/mL"),
                        ("Sodium", "139 mmol/L", "136 – 145 mmol/L", "138 mmol/L"),
                        ("Potassium", "4,6 mmol/L", "3,5 – 5,0 mmol/L", "4,1 mmol/L"),
                        ("Créatinine", "88 µmol/L", "45 – 90 µmol/L", "82 µmol/L"),
                        ("DFG estimé (CKD-EPI)", "70 mL/min/1,73 m²", "> 90", "78"),
                        ("Hémoglobine glyquée (HbA1c)", "6,9 %", "4,0 – 6,0 %", "7,0 %"),
                    )
                ),
                "Commentaire du biologiste : nette baisse du NT-proBNP. Kaliémie et fonction "
                "rénale stables sous traitement.",
                *_lab_footer(),
            ],
            type_code="11502-2",
        ),
        Doc(
            "louise-cardio-2",
            "louise",
            "cardio",
            "Consultation de suivi cardiologique",
            512,
            [
                "Cher confrère,",
                "J'ai revu Mme Louise Dupont 3 mois après son hospitalisation pour "
                "décompensation cardiaque.",
                "Elle va nettement mieux : essoufflement seulement aux efforts importants "
                "(NYHA I–II), plus d'œdèmes. Réadaptation à l'effort presque terminée, "
                "marche 45 minutes par jour.",
                "Examen : poids 77 kg, PA 112/70 mmHg, FC 64/min, auscultation normale.",
                "Échocardiographie de contrôle : FEVG remontée à 42 %. NT-proBNP à 420 pg/mL. "
                "Coronarographie sans lésion significative : cardiomyopathie non ischémique.",
                Heading("Traitement"),
                "Sacubitril/valsartan 49/51 mg matin et soir ; bisoprolol 5 mg ; "
                "dapagliflozine 10 mg ; furosémide 20 mg seulement si prise de poids. "
                "Metformine inchangée.",
                "Prochaine consultation dans 3 mois avec ionogramme et créatinine. Télésuivi "
                "du poids et de la tension à poursuivre. Bien confraternellement.",
            ],
            type_code="11488-4",
            recipient=mt_recipient,
            deposit_delay=1,
        ),
    ]
    reads = [
        Read(1, "mt", "louise-bio-1"),
        Read(119, "mt", "louise-bio-2"),
        Read(333, "mt", "louise-bio-3"),
        Read(340, "cardio", "louise-mt-3"),
        Read(340, "cardio", "louise-bio-3"),
        Read(347, "mt", "louise-cardio-1"),
        Read(347, "mt", "louise-echo-1"),
        Read(413, "ide", "louise-presc-ide-2"),
        Read(413, "ide", "louise-cardio-1"),
        Read(413, "ide", "louise-ordo-2"),
        Read(421, "cardio", "louise-kine-1"),
        Read(501, "cardio", "louise-bio-4"),
        Read(514, "mt", "louise-cardio-2"),
    ]
    # Louise masks the consultation that mentions her stress at work: her médecin traitant (the
    # author) still sees it, the rest of the team no longer does.
    masks = [Mask(126, "louise", "louise-mt-1")]
    return Story(docs, reads, masks)


def jacqueline_story(day: Callable[[int], date]) -> Story:
    docs = [
        Doc(
            "jacqueline-bio-1",
            "jacqueline",
            "bio",
            "Bilan sanguin annuel",
            380,
            [
                *_lab_header(day(380), "Dr Bernard Léon"),
                Rows(
                    (
                        ("Examen", "Résultat", "Valeurs de référence"),
                        ("Hémoglobine", "12,1 g/dL", "12,0 – 16,0 g/dL"),
                        ("Plaquettes", "231 G/L", "150 – 400 G/L"),
                        ("Créatinine", "92 µmol/L", "45 – 90 µmol/L"),
                        ("DFG estimé (CKD-EPI)", "58 mL/min/1,73 m²", "> 60"),
                        ("Potassium", "4,4 mmol/L", "3,5 – 5,0 mmol/L"),
                        ("Cholestérol LDL calculé", "1,02 g/L", "selon le risque"),
                        ("TSH", "2,6 mUI/L", "0,4 – 4,0 mUI/L"),
                        ("25-OH vitamine D", "18 ng/mL", "30 – 100 ng/mL"),
                    )
                ),
                "Commentaire du biologiste : insuffisance rénale modérée stable (stade 3a), "
                "carence en vitamine D.",
                *_lab_footer(),
            ],
            type_code="11502-2",
        ),
        Doc(
            "jacqueline-ordo-1",
            "jacqueline",
            "mt",
            "Ordonnance – renouvellement du traitement",
            385,
            [
                "Mme Jacqueline Moreau – 80 ans – clairance de la créatinine 58 mL/min.",
                Rows(
                    (
                        ("Prescription", "Posologie", "Durée"),
                        ("Amlodipine 5 mg", "1 comprimé le matin", "3 mois"),
                        ("Atorvastatine 20 mg", "1 comprimé le soir", "3 mois"),
                        ("Cholécalciférol 100 000 UI, ampoule buvable", "1 ampoule", "à J0"),
                        (
                            "Paracétamol 1 g",
                            "1 comprimé si douleur, 3 par jour au maximum",
                            "3 mois",
                        ),
                    )
                ),
                "Préparation des médicaments en pilulier par la pharmacie.",
                "Ordonnance à renouveler 3 fois.",
            ],
            type_code="57833-6",
        ),
        Doc(
            "jacqueline-vacc-1",
            "jacqueline",
            "pharma",
            "Vaccination contre la grippe saisonnière",
            470,
            [
                "Vaccination réalisée à l'officine, après entretien préalable.",
                Rows(
                    (
                        ("Vaccin", "Lot", "Voie et site", "Dose"),
                        (
                            "Vaccin grippal quadrivalent haute dose",
                            "GRP4512",
                            "intramusculaire, deltoïde gauche",
                            "0,7 mL",
                        ),
                    )
                ),
                "Pas d'antécédent d'allergie aux vaccins. Surveillance de 15 minutes sans "
                "réaction. Rappel : prochaine vaccination contre la grippe à l'automne "
                "prochain ; la vaccination contre le Covid-19 peut être faite le même jour.",
            ],
            type_code="87273-9",
        ),
        Doc(
            "jacqueline-urg-1",
            "jacqueline",
            "urgentiste",
            "Compte rendu de passage aux urgences – chute à domicile",
            495,
            [
                Heading("Motif"),
                "Chute de sa hauteur dans la cuisine, sans perte de connaissance. Amenée par "
                "les pompiers, accompagnée de sa fille.",
                Heading("Examen"),
                "PA 142/78 mmHg, FC 76/min, glycémie capillaire 1,02 g/L. Hématome du poignet "
                "droit. Examen neurologique normal.",
                "Radiographie du poignet droit : pas de fracture. ECG normal.",
                Heading("Conclusion et sortie"),
                "Chute mécanique sans gravité. Retour à domicile le jour même. Attelle de "
                "repos 7 jours, paracétamol si douleur. Séances de kinésithérapie pour "
                "l'équilibre et la prévention des chutes conseillées ; téléassistance "
                "proposée. Revoir le médecin traitant dans la semaine.",
            ],
            type_code="11488-4",
        ),
    ]
    reads = [Read(386, "mt", "jacqueline-bio-1"), Read(497, "mt", "jacqueline-urg-1")]
    return Story(docs, reads, [])


def leo_story(day: Callable[[int], date]) -> Story:
    docs = [
        Doc(
            "leo-vacc-1",
            "leo",
            "pediatre",
            "Certificat de vaccination – rappel des 6 ans",
            480,
            [
                "Je soussignée, Dr Emma Rousseau, certifie que l'enfant Léo Lambert a reçu les "
                "vaccinations suivantes :",
                Rows(
                    (
                        ("Vaccin", "Âge", "Date"),
                        (
                            "Diphtérie, tétanos, coqueluche, polio, Hib, hépatite B",
                            "2 mois",
                            "07/2020",
                        ),
                        (
                            "Diphtérie, tétanos, coqueluche, polio, Hib, hépatite B",
                            "4 mois",
                            "09/2020",
                        ),
                        ("Pneumocoque", "2 et 4 mois", "07/2020, 09/2020"),
                        ("Méningocoque C", "5 mois", "10/2020"),
                        (
                            "Diphtérie, tétanos, coqueluche, polio, Hib, hépatite B",
                            "11 mois",
                            "04/2021",
                        ),
                        ("Rougeole, oreillons, rubéole", "12 et 16 mois", "05/2021, 09/2021"),
                        ("Diphtérie, tétanos, coqueluche, polio (rappel)", "6 ans", "ce jour"),
                    )
                ),
                "Les vaccinations obligatoires sont à jour. Prochain rappel : diphtérie, "
                "tétanos, coqueluche, polio entre 11 et 13 ans.",
                "Certificat établi à la demande de la mère pour l'école.",
            ],
            type_code="87273-9",
        ),
        Doc(
            "leo-examen-6ans",
            "leo",
            "pediatre",
            "Examen de santé de l'enfant – 6 ans",
            485,
            [
                Heading("Croissance"),
                "Poids 21 kg, taille 117 cm, IMC 15,3 kg/m² : courbes régulières, dans la "
                "moyenne. Tension artérielle 98/60 mmHg.",
                Heading("Développement"),
                "Langage fluide, dessine un bonhomme complet, commence à lire des syllabes. "
                "Bonne motricité (saute à cloche-pied). Sommeil de 10 heures.",
                Heading("Sens"),
                "Acuité visuelle 10/10 à chaque œil. Audition normale au test vocal.",
                Heading("Dents"),
                "Pas de carie. Examen bucco-dentaire chez le dentiste conseillé cette année.",
                Heading("Conseils"),
                "Limiter les écrans, activité physique quotidienne, brossage des dents deux "
                "fois par jour. Vaccinations à jour (rappel fait le "
                + pdfs.french_date(day(480))
                + ").",
            ],
            type_code="59283-2",
        ),
    ]
    return Story(docs, [], [])


STORIES = (louise_story, jacqueline_story, leo_story)


# --- Loading ----------------------------------------------------------------------------------


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    @property
    def nothing_new(self) -> bool:
        return not any(self.created.values())


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """Run domain actions as if at `at`: dates of deposits, traces and notifications follow."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


class _Loader:
    def __init__(self, today: date) -> None:
        self.today = today
        self.start = today - timedelta(days=STORY_DAYS)
        self.report = LoadReport()
        self.citizens: dict[str, Citizen] = {}
        self.orgs: dict[str, Organisation] = {}
        self.pros: dict[str, Professional] = {}
        self.docs: dict[str, Document] = {}
        self._password_hash = ""

    @property
    def password_hash(self) -> str:
        # One hash for every demo login: argon2 is slow by design, and the password is public.
        if not self._password_hash:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash

    def day(self, n: int) -> date:
        return self.start + timedelta(days=n)

    def at(self, n: int, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(self.day(n), time(hour, minute), tzinfo=PARIS)

    # People and structures ------------------------------------------------------------------

    def people(self) -> None:
        for p in PEOPLE:
            made = demo_citizen(p, self.password_hash)
            for kind in made.new:
                self.report.add(kind)
            self.citizens[p.key] = made.citizen
            _, created = PrivacySettings.objects.get_or_create(
                patient=made.citizen,
                defaults={"onboarded_at": self.at(-30) if p.onboarded else None},
            )
            if created:
                self.report.add("paramètres de confidentialité")
        for rep, child, role in REPRESENTATIONS:
            _, created = LegalRepresentation.objects.get_or_create(
                representative=self.citizens[rep],
                represented=self.citizens[child],
                defaults={
                    "role": role,
                    "started_at": datetime.combine(
                        self.citizens[child].birth_date, time(12), tzinfo=PARIS
                    ),
                },
            )
            if created:
                self.report.add("représentations légales")

    def structures(self) -> None:
        for o in ORGS:
            org, created = Organisation.objects.get_or_create(
                finess=o.finess, defaults={"name": o.name, "kind": o.kind, "city": o.city}
            )
            self.orgs[o.key] = org
            if created:
                self.report.add("structures")
        for p in PROS:
            pro = Professional.objects.filter(rpps=p.rpps).first()
            if pro is None:
                user = User.objects.filter(username=p.rpps).first()
                if user is None:
                    user = User.objects.create(
                        username=p.rpps,
                        password=self.password_hash,
                        email=p.email,
                        first_name=p.first_name,
                        last_name=p.last_name,
                        kind=User.Kind.PROFESSIONAL,
                    )
                    self.report.add("utilisateurs")
                pro = Professional.objects.create(
                    user=user,
                    rpps=p.rpps,
                    first_name=p.first_name,
                    last_name=p.last_name,
                    profession=p.profession,
                    specialty=p.specialty,
                    organisation=self.orgs[p.org],
                    email=p.email,
                )
                self.report.add("professionnels")
            self.pros[p.key] = pro

    def grants(self) -> None:
        for g in GRANTS:
            patient, pro = self.citizens[g.patient], self.pros[g.pro]
            if ProfessionalAccess.objects.filter(patient=patient, professional=pro).exists():
                continue
            since = self.at(g.day, 9, 30)
            ProfessionalAccess.objects.create(
                patient=patient,
                professional=pro,
                status=ProfessionalAccess.Status.AUTHORISED,
                source=ProfessionalAccess.Source.PATIENT,
                since=since,
                is_treating_physician=g.treating,
                # The demo's médecins traitants are the ones declared to the Assurance Maladie.
                treating_source=TreatingSource.INSURER if g.treating else "",
                treating_since=since if g.treating else None,
            )
            self.report.add("autorisations")
            # The consent, as the patient's activity history shows it.
            actor = self._actor_for_patient(patient)
            with _clock(since):
                trace.record(
                    actor=actor,
                    action=TraceAction.GRANT_PRO,
                    patient_id=patient.pk,
                    document_title=pro.display_name,
                )

    def _actor_for_patient(self, patient: Citizen) -> Actor:
        """The holder, or for a child the representative who acts for them."""
        if patient.user_id is not None:
            return citizen_actor(patient)
        link = LegalRepresentation.objects.filter(represented=patient).first()
        assert link is not None, "a person without login has a legal representative"
        return citizen_actor(link.representative)

    # Stories ----------------------------------------------------------------------------------

    def stories(self) -> None:
        events: list[tuple[datetime, int, Callable[[], None]]] = []
        for tell in STORIES:
            story = tell(self.day)
            for doc in story.documents:
                at = self.at(doc.day + doc.deposit_delay, 17, 30)
                events.append((at, 0, partial(self.deposit, doc, at)))
            for read in story.reads:
                at = self.at(read.day, 8, 45)
                events.append((at, 1, partial(self.read, read, at)))
            for mask in story.masks:
                at = self.at(mask.day, 21, 10)
                events.append((at, 2, partial(self.mask, mask, at)))
        # In the order of the story, so that each patient's trace chain follows the calendar.
        for _, _, run in sorted(events, key=lambda e: (e[0], e[1])):
            run()

    def _letter(self, doc: Doc, patient: Citizen) -> pdfs.Letter:
        name = (patient.used_name or patient.birth_name).upper()
        header = pdfs.PatientHeader(
            display_name=f"{patient.first_name} {name}",
            birth_name=patient.birth_name.upper(),
            birth_date=patient.birth_date,
            sex=patient.sex,
            ins=patient.ins,
        )
        if doc.author is None:
            return pdfs.Letter(
                organisation="Document personnel",
                organisation_lines=("Tenu par la patiente",),
                author=patient.display_name,
                author_lines=(),
                patient=header,
                place="Paris",
                day=self.day(doc.day),
                title=doc.title,
                body=doc.body,
            )
        spec = next(p for p in PROS if p.key == doc.author)
        org = next(o for o in ORGS if o.key == spec.org)
        pro = self.pros[doc.author]
        return pdfs.Letter(
            organisation=org.name,
            organisation_lines=(*((spec.service,) if spec.service else ()), *org.lines),
            author=pro.display_name,
            author_lines=(spec.title, f"RPPS {pro.rpps} – FINESS {org.finess}"),
            patient=header,
            place=org.city,
            day=self.day(doc.day),
            title=doc.title,
            body=doc.body,
            recipient=doc.recipient,
            signature=pro.display_name,
        )

    def deposit(self, doc: Doc, at: datetime) -> None:
        existing = Document.objects.filter(unique_id=doc.unique_id).first()
        if existing is not None:
            self.docs[doc.key] = existing
            return
        patient = self.citizens[doc.patient]
        content = pdfs.render(self._letter(doc, patient))
        if doc.author is None:
            actor = self._actor_for_patient(patient)
        else:
            actor = professional_actor(self.pros[doc.author])
        with _clock(at):
            deposited = document_deposit(
                actor=actor,
                patient_id=patient.pk,
                content=content,
                title=doc.title,
                type_code=doc.type_code or None,
                category=doc.category or None,
                service_date=self.day(doc.day),
                created_at=self.at(doc.day, 16),
            )
        # A stable identifier instead of the random one, so the next load recognises it.
        Document.objects.filter(pk=deposited.pk).update(unique_id=doc.unique_id)
        deposited.unique_id = doc.unique_id
        # Someone who uses her espace has read the news of past months; the recent ones wait.
        privacy = PrivacySettings.objects.filter(patient=patient).first()
        if privacy and privacy.onboarded_at and at.date() < self.today - UNREAD_NOTIFICATIONS:
            Notification.objects.filter(
                profile=patient,
                url=reverse("portal:document", args=[deposited.pk]),
                read_at__isnull=True,
            ).update(read_at=at + timedelta(days=1))
        self.docs[doc.key] = deposited
        self.report.add("documents")

    def read(self, read: Read, at: datetime) -> None:
        document = self.docs[read.doc]
        actor = professional_actor(self.pros[read.pro])
        if Trace.objects.filter(
            chain=str(document.patient_id),
            document_id=document.pk,
            actor_id=actor.national_id,
            action=TraceAction.DOWNLOAD_DOC,
        ).exists():
            return
        with _clock(at):
            document_content(actor=actor, document_id=document.pk)
        self.report.add("consultations par des professionnels")

    def mask(self, mask: Mask, at: datetime) -> None:
        document = self.docs[mask.doc]
        actor = citizen_actor(self.citizens[mask.citizen])
        if Trace.objects.filter(
            chain=str(document.patient_id),
            document_id=document.pk,
            action__in=[TraceAction.MASK_DOC, TraceAction.UNMASK_DOC],
        ).exists():
            return
        with _clock(at):
            document_set_masked(actor=actor, document_id=document.pk, masked=True)
        self.report.add("documents masqués")


def load(today: date | None = None) -> LoadReport:
    """Create whatever part of the demo dataset is missing, in one transaction.

    Precondition: the database is migrated and a master key is configured (documents are
    encrypted). Side effects: users, citizens, structures, professionals, consents, documents
    in the vault, traces and notifications dated along the stories.
    """
    loader = _Loader(today or timezone.localdate())
    with transaction.atomic():
        loader.people()
        loader.structures()
        loader.grants()
        loader.stories()
    return loader.report


@dataclass(frozen=True)
class Login:
    username: str
    who: str


def logins() -> list[Login]:
    """The demo logins to print, citizens first, then a few professionals."""
    out = [Login(p.username, p.who) for p in PEOPLE if p.username]
    shown = {
        "mt": "médecin traitant de Louise et de Jacqueline",
        "cardio": "suit Louise au Centre hospitalier de Villeneuve",
        "ide": "soins à domicile de Louise",
        "podo": "suit Louise ; la matrice d'habilitations lui refuse certains documents",
        "urgentiste": "sans l'accord de Louise : peut ouvrir un accès en urgence (bris de glace)",
        "regulateur": "régulation du SAMU – Centre 15",
    }
    for p in PROS:
        if p.key in shown:
            title = "Dr " if p.profession == "10" else ""
            role = p.title[0].lower() + p.title[1:]
            out.append(
                Login(
                    p.rpps,
                    f"{title}{p.first_name} {p.last_name}, {role}, {shown[p.key]} "
                    "(espace professionnel)",
                )
            )
    return out
