"""Build the benchmark's dataset in a fresh database and write its manifest (JSON).

    DJANGO_SETTINGS_MODULE=config.bench python -m bench.dataset --patients 3 --documents 500 \
        --out manifest.json

Run by bench/run.py with the run's keys and database. Everything goes through the real code:
the migrations, the OAuth client registration (mes.fhir.models.register_client), a
django-oauth-toolkit access token stored as the token endpoint stores it (hashed at rest), and
every document through the domain action mes.records.actions.document_deposit, so the rows, the
encrypted blobs, the notifications and the hash-chained traces are those of a real dossier.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# Document types a médecin généraliste deposits (TRE_A05 / LOINC, all readable by a médecin).
TYPE_CODES = ("11488-4", "11490-0", "11502-2", "18748-4", "34133-9", "57833-6", "60591-5")
SOFTWARE_NAME = "Banc d'essai MHD"
SOFTWARE_VERSION = "1.0"
SCOPES = (
    "user/Patient.read",
    "user/DocumentReference.read",
    "user/DocumentReference.write",
    "user/Binary.read",
)
# Nine years of history: service dates spread so that « newest first » means something.
HISTORY_DAYS = 9 * 365


def make_pdf(text: str) -> bytes:
    """A small real PDF (about 1.5 kB), as practice software would send a letter."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setTitle(text)
    for line, words in enumerate((text, "Compte rendu de consultation", "Banc d'essai MHD")):
        c.drawString(72, 720 - 18 * line, words)
    c.save()
    return buf.getvalue()


def _first13(index: int) -> str:
    """The first 13 digits of a plausible NIR (sex, year, month, département, commune, order)."""
    sex = "1" if index % 2 else "2"
    return f"{sex}{70 + index % 25:02d}{1 + index % 12:02d}75056{index:03d}"


def build(*, patients: int, documents: int, seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, set_token_value

    from mes.access.actors import professional_actor
    from mes.access.models import PrivacySettings, ProfessionalAccess
    from mes.fhir.models import register_client
    from mes.identity.models import Citizen, Organisation, Professional, User
    from mes.lib.ins import with_key
    from mes.records.actions import document_deposit

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter()

    rng = random.Random(seed)  # noqa: S311 - a reproducible dataset, not a secret
    cabinet = Organisation.objects.create(
        finess="750099001", name="Cabinet du banc d'essai", kind=Organisation.Kind.PRACTICE
    )
    user = User.objects.create_user(
        username="19900000001", password=secrets.token_urlsafe(16), kind=User.Kind.PROFESSIONAL
    )
    professional = Professional.objects.create(
        user=user,
        rpps="19900000001",
        first_name="Claire",
        last_name="Banc",
        profession="10",
        specialty="SM54",
        organisation=cabinet,
    )
    registered = register_client(
        software_name=SOFTWARE_NAME,
        software_version=SOFTWARE_VERSION,
        redirect_uris="http://127.0.0.1/callback",
        confidential=False,
    )
    raw_token = secrets.token_urlsafe(30)
    token = AccessToken(
        user=user,
        application=registered.client.application,
        expires=timezone.now() + timedelta(days=1),
        scope=" ".join(SCOPES),
    )
    set_token_value(token, raw_token)
    token.save()

    actor = professional_actor(professional, software=f"{SOFTWARE_NAME} {SOFTWARE_VERSION}")
    pdf = make_pdf("Lettre du banc d'essai")
    today = date.today()
    manifest_patients: list[dict[str, str | int]] = []
    for index in range(patients):
        citizen = Citizen.objects.create(
            ins=with_key(_first13(index)),
            birth_name=f"Patient{index:03d}",
            first_names="Dominique",
            first_name="Dominique",
            birth_date=date(1970 + index % 25, 1 + index % 12, 1 + index % 28),
            sex="F" if index % 2 == 0 else "M",
            birth_place_insee="75056",
        )
        PrivacySettings.objects.create(patient=citizen)
        ProfessionalAccess.objects.create(
            patient=citizen,
            professional=professional,
            status=ProfessionalAccess.Status.AUTHORISED,
        )
        for n in range(documents):
            service_date = today - timedelta(days=rng.randrange(HISTORY_DAYS))
            document_deposit(
                actor=actor,
                patient_id=citizen.pk,
                content=pdf,
                title=f"Compte rendu n° {n + 1}",
                type_code=rng.choice(TYPE_CODES),
                service_date=service_date,
            )
        manifest_patients.append(
            {"id": str(citizen.pk), "ins": citizen.ins, "ins_kind": citizen.ins_kind}
        )
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would gather them on a live database: otherwise the
        # planner still believes the tables empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    built = time.perf_counter()
    return {
        "patients": manifest_patients,
        "documents_per_patient": documents,
        "professional": {"rpps": professional.rpps, "national_id": professional.national_id},
        "token": raw_token,
        "scopes": list(SCOPES),
        "pdf_path": "",  # filled by main()
        "seconds": {
            "migrate": round(migrated - started, 2),
            "documents": round(built - migrated, 2),
        },
        "search_query_plan": _search_plan(str(manifest_patients[0]["id"])),
    }


def _search_plan(patient_id: str) -> str:
    """The database's plan for the baseline's (and ITI-67's) document query, for the record."""
    from bench.baseline_urls import ORDER, PAGE_SIZE
    from mes.records.models import Document

    query = Document.objects.filter(
        patient_id=uuid.UUID(patient_id), status=Document.Status.CURRENT
    )
    return query.order_by(*ORDER)[:PAGE_SIZE].explain()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--documents", type=int, default=500, help="per patient")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.bench")
    manifest = build(patients=args.patients, documents=args.documents, seed=args.seed)
    pdf_path = args.out.with_suffix(".pdf")
    pdf_path.write_bytes(make_pdf("Lettre de liaison du banc d'essai"))
    manifest["pdf_path"] = str(pdf_path)
    args.out.write_text(json.dumps(manifest, indent=2))
    print(
        f"dataset: {args.patients} patients × {args.documents} documents "
        f"({manifest['seconds']['documents']} s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
