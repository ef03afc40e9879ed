"""Real SMTP and LMTP sessions (smtplib) against a running gateway: delivery of a PDF and of an
XDM archive, threading, `X-MSS-MES: FIN`, bounces, and every refusal with its reply code and
nothing stored (rows and blobs counted before and after)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from mes.audit.models import Trace, TraceAction
from mes.conftest import make_pdf
from mes.enrolment.models import Espace, EspaceState
from mes.identity.models import Citizen, Professional
from mes.messaging.models import Attachment, Conversation, Message
from mes.messaging.tests.fixtures import MARTIN_ADDRESS, martin_mailbox
from mes.mssante import server, xdm

PATIENT_DOMAIN = "patient.mssante.fr"


@pytest.fixture
def martin_box(dr_martin: Professional) -> Any:
    return martin_mailbox(dr_martin)


def to_patient(patient: Citizen) -> str:
    return f"{patient.ins}@{PATIENT_DOMAIN}"


def compose(
    patient: Citizen,
    *,
    sender: str = MARTIN_ADDRESS,
    subject: str = "Compte rendu de consultation",
    pdf: bytes | None = None,
    zip_bytes: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Dr Anne Martin <{sender}>"
    msg["To"] = to_patient(patient)
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}-{len(subject)}@medecin.mssante.fr>"
    msg["X-MSS-NIL"] = "LPS-TEST-1.0"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content("Bonjour,\nVoici le compte rendu.\nDr Martin")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="compte-rendu.pdf")
    if zip_bytes is not None:
        msg.add_attachment(zip_bytes, maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    return msg


def counts() -> tuple[int, int, int, int]:
    """Rows, and the vault blobs of this test's patients (the vault folder is shared between
    the test processes)."""
    vault = Path(django_settings.STORAGES["vault"]["OPTIONS"]["location"])
    blobs = sum(
        1
        for patient in Citizen.objects.values_list("pk", flat=True)
        for _ in (vault / patient.hex[:2] / patient.hex).glob("*.bin")
    )
    return Conversation.objects.count(), Message.objects.count(), Attachment.objects.count(), blobs


def smtp(gw: server.Gateway) -> smtplib.SMTP:
    return smtplib.SMTP(gw.smtp.hostname, gw.smtp.port, timeout=60)


def test_smtp_delivers_a_pdf_into_the_inbox(
    gateway: server.Gateway, camille: Citizen, martin_box: Any
) -> None:
    pdf = make_pdf("Compte rendu")
    with smtp(gateway) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=ssl._create_unverified_context())
        client.ehlo()
        refused = client.send_message(compose(camille, pdf=pdf))
    assert refused == {}
    msg = Message.objects.get()
    assert msg.conversation.patient == camille and msg.sender == martin_box
    assert msg.mss_nil == "LPS-TEST-1.0"
    att = msg.attachments.get()
    assert att.mime_type == "application/pdf" and att.size == len(pdf)
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.RECEIVE_MESSAGE)
    assert trace.actor_name == "Dr Anne Martin"


def test_lmtp_delivers_an_xdm_archive_with_one_reply_per_recipient(
    gateway: server.Gateway, camille: Citizen, louis: Citizen, martin_box: Any
) -> None:
    cda = b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>'
    archive = xdm.build(
        [
            ("DOC0001.XML", "Compte rendu (CDA)", "text/xml", cda),
            ("DOC0002.PDF", "Compte rendu.pdf", "application/pdf", make_pdf()),
        ]
    )
    msg = compose(camille, zip_bytes=archive, headers={"X-MSS-CODECDA": "11488-4"})
    assert gateway.lmtp is not None
    with smtplib.LMTP(gateway.lmtp.hostname, gateway.lmtp.port, timeout=60) as client:
        client.ehlo("postfix.local")  # smtplib.LMTP sends LHLO
        code, _ = client.mail(MARTIN_ADDRESS)
        assert code == 250
        assert client.rcpt(to_patient(camille))[0] == 250
        assert client.rcpt(to_patient(louis))[0] == 250
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(msg.as_bytes().replace(b"\n", b"\r\n") + b"\r\n.\r\n")
        replies = [client.getreply()[0], client.getreply()[0]]
    assert replies == [250, 250]
    for patient in (camille, louis):
        m = Message.objects.get(conversation__patient=patient)
        assert m.mss_codecda == "11488-4"
        assert sorted(a.mime_type for a in m.attachments.all()) == ["application/pdf", "text/xml"]
        assert m.attachments.get(mime_type="text/xml").cda_type_code == "11488-4"


def test_threading_and_end_of_exchange(
    gateway: server.Gateway, camille: Citizen, martin_box: Any
) -> None:
    first = compose(camille, subject="Suivi")
    second = compose(camille, subject="Suite du suivi", headers={"X-MSS-MES": "FIN"})
    second["In-Reply-To"] = first["Message-ID"]
    second["References"] = first["Message-ID"]
    with smtp(gateway) as client:
        client.send_message(first)
        client.send_message(second)
    conv = Conversation.objects.get()
    assert conv.messages.count() == 2 and conv.is_closed and conv.closed_by == martin_box


@pytest.mark.parametrize(
    "case, code",
    [
        ("unknown_espace", 550),
        ("closed_espace", 550),
        ("opposed_espace", 550),
        ("foreign_domain", 550),
        ("sender_domain", 550),
        ("sender_not_in_directory", 550),
        ("too_large", 552),
        ("malformed_xdm", 554),
        ("nul", 554),
        ("forbidden_file", 554),
    ],
)
def test_refusals_store_nothing(
    gateway: server.Gateway, camille: Citizen, martin_box: Any, case: str, code: int
) -> None:
    before = counts()
    msg = compose(camille, pdf=make_pdf())
    rcpt, sender = to_patient(camille), MARTIN_ADDRESS
    if case == "unknown_espace":
        rcpt = f"299999999999999@{PATIENT_DOMAIN}"
    elif case in ("closed_espace", "opposed_espace"):
        # The espace's life (issue 14): a closed espace receives nothing, an opposed one never
        # existed for professionals.
        state = EspaceState.CLOSED if case == "closed_espace" else EspaceState.OPPOSED
        Espace.objects.update_or_create(citizen=camille, defaults={"state": state})
        before = counts()
    elif case == "foreign_domain":
        rcpt = f"{camille.ins}@example.org"
    elif case == "sender_domain":
        sender = "pirate@example.org"
    elif case == "sender_not_in_directory":
        msg.replace_header("From", "inconnu@medecin.mssante.fr")
    elif case == "too_large":
        msg.add_attachment(
            b"%PDF-" + b"0" * (3 * 1024 * 1024),
            maintype="application",
            subtype="pdf",
            filename="gros.pdf",
        )
    elif case == "malformed_xdm":
        msg = compose(camille, zip_bytes=b"PK\x03\x04 pas une archive")
    elif case == "forbidden_file":
        msg.add_attachment(
            b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="programme.exe"
        )
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    if case == "nul":
        data = data.replace(b"Voici le compte rendu", b"Voici le \x00compte rendu")
    with smtp(gateway) as client:
        client.ehlo()
        mail_code, _ = client.mail(sender)
        reply = mail_code
        if mail_code == 250:
            reply = client.rcpt(rcpt)[0]
            if reply == 250:
                try:
                    reply = client.data(data)[0]
                except smtplib.SMTPResponseException as exc:
                    reply = exc.smtp_code
    assert reply == code
    assert counts() == before


def test_temporary_failure_is_451_and_stores_nothing(
    gateway: server.Gateway, camille: Citizen, martin_box: Any, monkeypatch: Any
) -> None:
    from mes.vault import store

    def broken(*args: Any) -> str:
        raise OSError("disque plein")

    monkeypatch.setattr(store, "put", broken)
    before = counts()
    with smtp(gateway) as client, pytest.raises(smtplib.SMTPDataError) as exc:
        client.send_message(compose(camille, pdf=make_pdf()))
    assert exc.value.smtp_code == 451
    assert counts() == before


def test_starttls_required_in_production(
    transactional_db: Any, camille: Citizen, martin_box: Any
) -> None:
    from .conftest import free_port

    gw = server.start(host="127.0.0.1", smtp_port=free_port(), lmtp_port=0, require_starttls=True)
    try:
        with smtplib.SMTP("127.0.0.1", gw.smtp.port, timeout=60) as client:
            client.ehlo()
            assert client.mail(MARTIN_ADDRESS)[0] == 530
            client.starttls(context=ssl._create_unverified_context())
            client.ehlo()
            assert client.send_message(compose(camille)) == {}
    finally:
        gw.stop()
    assert Message.objects.count() == 1


def test_a_bounce_marks_the_citizens_message(
    gateway: server.Gateway, camille: Citizen, martin_box: Any
) -> None:
    from mes.access.actors import citizen_actor
    from mes.messaging import actions

    with smtp(gateway) as client:
        client.send_message(compose(camille))
    conv = Conversation.objects.get()
    sent = actions.message_reply(
        actor=citizen_actor(camille),
        conversation_id=conv.pk,
        outgoing=actions.Outgoing(body="Merci"),
    )
    dsn = (
        f"From: MAILER-DAEMON@medecin.mssante.fr\r\nTo: {to_patient(camille)}\r\n"
        "Subject: Undelivered Mail\r\nMessage-ID: <dsn-1@medecin.mssante.fr>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nNon distribue.\r\n'
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; anne.martin@medecin.mssante.fr\r\nAction: failed\r\n"
        "Status: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Boite pleine\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent.message_id}\r\n"
        "Subject: RE: Compte rendu\r\n\r\n--B--\r\n"
    )
    with smtp(gateway) as client:
        client.sendmail("", [to_patient(camille)], dsn.encode())
    sent.refresh_from_db()
    assert sent.delivery == Message.Delivery.FAILED
    assert "Boite pleine" in sent.delivery_error
