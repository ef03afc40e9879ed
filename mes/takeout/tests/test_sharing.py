"""Camille shares two documents by a SMART Health Link: a recipient's app follows the protocol
(shlink payload, manifest POST, JWE decrypted with jwcrypto, an independent implementation);
the passcode is enforced; every opening is traced in her Historique; an expired or revoked link
refuses clearly, with a trace."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwe, jwk

from mes.access.actors import citizen_actor
from mes.audit.history import HistoryTab, history_page
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.lib.errors import InvalidInput, NotFound
from mes.records import actions as records
from mes.takeout import sharing
from mes.takeout.models import ShareLink


@pytest.fixture
def docs(camille):
    return [
        records.document_deposit(
            actor=citizen_actor(camille),
            patient_id=camille.pk,
            content=make_pdf(f"Résultat {n}"),
            title=f"Résultats {n}",
            category="BIOLOGIE",
        )
        for n in (1, 2)
    ]


def _link(camille, docs, **extra):
    return sharing.share_link_create(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        document_ids=[d.pk for d in docs],
        label="Pour le Dr Martin",
        days=extra.pop("days", 7),
        **extra,
    )


def _payload(link):
    url = sharing.shlink(
        link,
        manifest_url="http://testserver" + reverse("portal:share_manifest", args=[link.token]),
        viewer_url="http://testserver" + reverse("portal:share_view", args=[link.token]),
    )
    fragment = url.split("#shlink:/", 1)[1]
    return json.loads(base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4)))


def test_a_recipient_app_follows_the_protocol(client, camille, docs):
    link = _link(camille, docs)
    payload = _payload(link)
    assert payload["label"] == "Pour le Dr Martin" and "flag" not in payload
    answer = client.post(
        urlsplit(payload["url"]).path,
        json.dumps({"recipient": "Dr Martin"}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    key = jwk.JWK(kty="oct", k=payload["key"])
    titles = set()
    for f in answer.json()["files"]:
        token = jwe.JWE()
        token.deserialize(f["embedded"], key=key)
        resource = json.loads(token.payload)
        assert resource["resourceType"] == "DocumentReference"
        pdf = base64.b64decode(resource["content"][0]["attachment"]["data"])
        assert pdf.startswith(b"%PDF")
        titles.add(resource["description"])
    assert titles == {"Résultats 1", "Résultats 2"}
    opened = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SHARE_LINK_OPEN)
    assert opened.outcome == TraceOutcome.ALLOWED and "Pour le Dr Martin" in opened.actor_name
    rows = history_page(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    ).rows
    assert any(r.action_label == "Ouverture d'un lien de partage" for r in rows)
    link.refresh_from_db()
    assert link.opened_count == 1 and link.last_opened_at is not None


def test_the_passcode(client, camille, docs):
    link = _link(camille, docs, passcode="soleil-42")
    payload = _payload(link)
    assert payload["flag"] == "P"
    path = urlsplit(payload["url"]).path
    wrong = client.post(
        path, json.dumps({"recipient": "X", "passcode": "lune"}), content_type="application/json"
    )
    assert wrong.status_code == 401 and wrong.json()["remainingAttempts"] == 4
    good = client.post(
        path,
        json.dumps({"recipient": "X", "passcode": "soleil-42"}),
        content_type="application/json",
    )
    assert good.status_code == 200 and len(good.json()["files"]) == 2


def test_wrong_passcodes_lock_the_link(camille, docs, settings):
    link = _link(camille, docs, passcode="soleil-42")
    for _ in range(settings.MES_SHARE_LINK_MAX_PASSCODE_FAILURES):
        with pytest.raises(sharing.LinkUnavailable):
            sharing.share_link_open(token=link.token, passcode="faux")
    with pytest.raises(sharing.LinkUnavailable) as exc:
        sharing.share_link_open(token=link.token, passcode="soleil-42")
    assert exc.value.message == sharing.LOCKED


def test_an_expired_link_refuses_with_a_clear_page_and_a_trace(client, camille, docs):
    link = _link(camille, docs, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        page = client.get(reverse("portal:share_view", args=[link.token]))
    assert page.status_code == 410 and "a expiré" in page.content.decode()
    refused = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.SHARE_LINK_OPEN, outcome=TraceOutcome.REFUSED
    )
    assert refused.reason == "lien expiré"


def test_a_revoked_link_refuses_and_its_key_is_gone(client, camille, docs):
    link = _link(camille, docs)
    sharing.share_link_revoke(actor=citizen_actor(camille), link_id=link.pk)
    link.refresh_from_db()
    assert link.revoked_at is not None and link.key == ""
    page = client.get(reverse("portal:share_view", args=[link.token]))
    assert page.status_code == 410 and "désactivé" in page.content.decode()
    manifest = client.post(
        reverse("portal:share_manifest", args=[link.token]),
        json.dumps({"recipient": "X"}),
        content_type="application/json",
    )
    assert manifest.status_code == 404
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.SHARE_LINK_REVOKE
    ).exists()


def test_an_unknown_token_is_not_found(client, db):
    assert client.get(reverse("portal:share_view", args=["inconnu"])).status_code == 404


def test_only_the_citizen_side_makes_or_revokes_links(camille, bob, docs, dr_martin):
    from mes.conftest import pro

    for actor in (citizen_actor(bob), pro(dr_martin)):
        with pytest.raises(NotFound):
            sharing.share_link_create(
                actor=actor,
                patient_id=camille.pk,
                document_ids=[docs[0].pk],
                label="x",
                days=1,
            )
    link = _link(camille, docs)
    with pytest.raises(NotFound):
        sharing.share_link_revoke(actor=citizen_actor(bob), link_id=link.pk)
    assert ShareLink.objects.count() == 1


def test_bad_input_stores_nothing(camille, bob, docs):
    others = records.document_deposit(
        actor=citizen_actor(bob),
        patient_id=bob.pk,
        content=make_pdf("Bob"),
        title="Bob",
        category="BIOLOGIE",
    )
    for kwargs, message in (
        ({"document_ids": []}, "au moins un document"),
        ({"document_ids": [others.pk]}, "pas disponible"),
        ({"days": 0}, "durée de validité"),
        ({"days": 400}, "durée de validité"),
        ({"label": " "}, "nom"),
        ({"passcode": "12"}, "code d'accès"),
    ):
        args = {"document_ids": [docs[0].pk], "label": "Partage", "days": 7, **kwargs}
        with pytest.raises(InvalidInput, match=message):
            sharing.share_link_create(actor=citizen_actor(camille), patient_id=camille.pk, **args)
    assert not ShareLink.objects.exists()


def test_a_deleted_document_leaves_the_share(camille, docs):
    link = _link(camille, docs)
    records.document_delete(actor=citizen_actor(camille), document_id=docs[0].pk)
    opened = sharing.share_link_open(token=link.token, passcode=None)
    assert [d.pk for d in opened.documents] == [docs[1].pk]


def test_a_closed_espace_s_link_no_longer_opens(camille, docs):
    """A closed espace lets nothing out (mes-spec §3.1): its links refuse, with a refused
    trace, instead of opening on an empty share traced as an opening."""
    from mes.enrolment import lifecycle

    link = _link(camille, docs)
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    with pytest.raises(sharing.LinkUnavailable) as refused:
        sharing.share_link_open(token=link.token, passcode=None)
    assert refused.value.message == sharing.UNAVAILABLE
    last = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert (last.action, last.outcome) == (TraceAction.SHARE_LINK_OPEN, TraceOutcome.REFUSED)
    assert ShareLink.objects.get(pk=link.pk).opened_count == 0
