"""The demo: `mes demo --load-only` tells the seeds' stories, twice without duplicating them."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Model
from django.utils import timezone
from pypdf import PdfReader

from mes.access.actors import citizen_actor, professional_actor
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.audit.trace import verify_all
from mes.demo import dataset, pdfs
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen, Organisation, Professional, User
from mes.lib.errors import NotFound
from mes.lib.ins import parse_ins
from mes.notifications.models import Notification
from mes.records.actions import document_content
from mes.records.models import Document
from mes.records.policies import documents_visible_to

COUNTED: tuple[type[Model], ...] = (
    User,
    Citizen,
    Organisation,
    Professional,
    ProfessionalAccess,
    PrivacySettings,
    LegalRepresentation,
    Document,
    Trace,
    Notification,
)

# Words each of Louise's documents must contain once decrypted and read back from the PDF.
EXPECTED_WORDS = {
    "louise-bio-1": ["Glycémie à jeun", "7,8 %", "biologiste"],
    "louise-mt-1": ["diabète de type 2", "Metformine", "Conduite à tenir"],
    "louise-ordo-1": ["Metformine 500 mg", "Bandelettes"],
    "louise-disp-1": ["Délivrance", "Entretien pharmaceutique"],
    "louise-diabeto-1": ["Cher confrère", "éducation thérapeutique"],
    "louise-presc-ide-1": ["Soins infirmiers", "capteur"],
    "louise-podo-1": ["monofilament", "risque podologique"],
    "louise-bio-2": ["7,1 %", "7,8 %", "Antériorité"],
    "louise-mt-2": ["HbA1c 7,1 %", "Fond d'œil"],
    "louise-mt-3": ["Essoufflement", "œdèmes", "NT-proBNP"],
    "louise-bio-3": ["NT-proBNP", "1 250 pg/mL"],
    "louise-echo-1": ["FEVG", "35 %", "Ventricule gauche"],
    "louise-cardio-1": ["insuffisance cardiaque", "Sacubitril/valsartan"],
    "louise-ordo-2": ["Bisoprolol", "Dapagliflozine"],
    "louise-disp-2": ["Pilulier", "Furosémide"],
    "louise-presc-kine-1": ["kinésithérapie", "20 séances"],
    "louise-presc-ide-2": ["pilulier", "2 passages par semaine"],
    "louise-kine-1": ["Test de marche de 6 minutes", "380 mètres"],
    "louise-carnet-1": ["poids", "tension"],
    "louise-bio-4": ["420 pg/mL", "6,9 %"],
    "louise-cardio-2": ["FEVG remontée à 42 %", "Metformine"],
}


def load() -> str:
    out = io.StringIO()
    call_command("demo", "--load-only", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def citizen(key: str) -> Citizen:
    person = next(p for p in dataset.PEOPLE if p.key == key)
    return Citizen.objects.get(ins=person.ins)


def professional(key: str) -> Professional:
    spec = next(p for p in dataset.PROS if p.key == key)
    return Professional.objects.get(rpps=spec.rpps)


def louise_docs() -> dict[str, Document]:
    by_uid = {
        d.unique_id: d.key for d in dataset.louise_story(lambda n: timezone.localdate()).documents
    }
    return {by_uid[d.unique_id]: d for d in Document.objects.filter(unique_id__in=by_uid)}


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # Lines wrap anywhere: compare with single spaces.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def demo(db: Any) -> None:
    load()


@pytest.mark.django_db
def test_a_second_load_creates_nothing() -> None:
    first = load()
    after_first = counts()
    second = load()
    assert counts() == after_first
    assert "documents" in first
    assert "déjà en place" in second
    assert after_first["Document"] >= 25
    assert after_first["Professional"] == len(dataset.PROS)


def test_each_persona_exists_with_a_valid_ins(demo: None) -> None:
    for person in dataset.PEOPLE:
        c = citizen(person.key)
        parse_ins(c.ins)  # raises on a bad key
        assert c.ins[0] == ("1" if person.sex == "M" else "2")
        assert c.ins[1:5] == f"{c.birth_date:%y%m}"
        if person.username:
            assert c.user is not None
            assert c.user.username == person.username
            assert c.user.check_password(dataset.DEMO_PASSWORD)
    louise = citizen("louise")
    assert louise.email == "louise.dupont@example.org"
    assert louise.age_on(timezone.localdate()) >= 45
    assert (
        LegalRepresentation.objects.current()
        .filter(representative=citizen("claire"), represented=citizen("leo"))
        .exists()
    )
    assert citizen("louise").privacy.onboarded_at is not None
    assert citizen("jacqueline").privacy.onboarded_at is not None
    assert citizen("claire").privacy.onboarded_at is None
    mt = professional("mt")
    assert mt.user is not None and mt.user.username == mt.rpps
    assert ProfessionalAccess.objects.get(patient=louise, professional=mt).is_treating_physician


def test_louise_reads_her_documents_as_french_pdfs(demo: None) -> None:
    louise = citizen("louise")
    docs = louise_docs()
    assert len(docs) >= 10
    assert set(EXPECTED_WORDS) == set(docs)
    for key, doc in docs.items():
        _, content = document_content(actor=citizen_actor(louise), document_id=doc.pk)
        assert content.startswith(b"%PDF")
        text = pdf_text(content)
        for word in [*EXPECTED_WORDS[key], "Louise", pdfs.format_ins(louise.ins)]:
            assert word.lower() in text.lower(), (key, word)
    # Dated along the story, over about 18 months, none deposited today.
    dates = sorted(d.service_date for d in docs.values())
    assert (dates[-1] - dates[0]).days > 365
    assert all(d.deposited_at < timezone.now() - timedelta(days=1) for d in docs.values())
    # One of them she deposited herself, in « Ordonnances et soins ».
    own = docs["louise-carnet-1"]
    assert own.deposited_by_citizen and own.category == "ORD_SOIN"
    assert not any(d.type_code == "11490-0" for d in docs.values())


def test_the_treating_physician_sees_everything_the_podiatrist_does_not(demo: None) -> None:
    louise = citizen("louise")
    docs = louise_docs()
    mt = professional_actor(professional("mt"))
    assert (
        documents_visible_to(mt, louise).count() == Document.objects.filter(patient=louise).count()
    )
    masked = docs["louise-mt-1"]
    assert masked.masked_from_professionals
    document_content(actor=mt, document_id=masked.pk)

    podo = professional_actor(professional("podo"))
    dispensation = docs["louise-disp-1"]  # 60593-1, class 43: outside his matrix
    with pytest.raises(NotFound):
        document_content(actor=podo, document_id=dispensation.pk)
    assert Trace.objects.filter(
        chain=str(louise.pk),
        actor_id=podo.national_id,
        document_id=dispensation.pk,
        outcome=TraceOutcome.REFUSED,
    ).exists()
    assert not documents_visible_to(podo, louise).filter(pk=dispensation.pk).exists()
    document_content(actor=podo, document_id=docs["louise-podo-1"].pk)  # his own bilan

    cardio = professional_actor(professional("cardio"))
    with pytest.raises(NotFound):  # masked by Louise
        document_content(actor=cardio, document_id=masked.pk)


def test_louise_activity_history_is_not_empty(demo: None) -> None:
    louise = citizen("louise")
    traces = Trace.objects.filter(chain=str(louise.pk))
    reads = traces.filter(action=TraceAction.DOWNLOAD_DOC, actor_kind="professional")
    assert {t.actor_name for t in reads} >= {
        professional(k).display_name for k in ("mt", "cardio", "ide")
    }
    assert traces.filter(action=TraceAction.DEPOSIT_DOC).count() >= 20
    assert traces.filter(action=TraceAction.GRANT_PRO).exists()
    assert traces.filter(action=TraceAction.MASK_DOC).count() == 1
    assert min(t.at for t in traces) < timezone.now() - timedelta(days=365)
    notifications = Notification.objects.filter(profile=louise)
    assert notifications.count() >= 15
    assert notifications.filter(read_at__isnull=True).exists()  # the recent ones
    assert notifications.filter(read_at__isnull=False).exists()  # the news of past months
    assert list(verify_all()) == []
