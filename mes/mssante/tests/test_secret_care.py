"""A minor's secret care over real SMTP (smtplib against the running gateway): the message is
marked INVISIBLE_REPRESENTANTS_LEGAUX by the XDM metadata (confidentialityCode, as the DMP
labels a document) or by the X-MES-INVISIBLE-REP-LEGAUX: Y header; it is refused (550, nothing
stored) for a patient of 18 or over, and a header that says neither Y nor N is malformed."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from mes.audit.models import Trace, TraceAction
from mes.conftest import make_pdf
from mes.identity.models import Citizen
from mes.messaging.models import Message
from mes.messaging.tests.test_secret_care import lea as lea
from mes.mssante import server, xdm

from .test_gateway import compose, counts, martin_box, smtp  # noqa: F401 - martin_box fixture

HEADER = "X-MES-INVISIBLE-REP-LEGAUX"


def send(gw: server.Gateway, msg: Any) -> int:
    """DATA's reply code (250 when accepted)."""
    with smtp(gw) as client:
        client.ehlo()
        try:
            client.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            return exc.smtp_code
        except smtplib.SMTPRecipientsRefused as exc:
            return next(iter(exc.recipients.values()))[0]
    return 250


def test_the_header_marks_the_message(
    gateway: server.Gateway,
    lea: Citizen,
    martin_box: Any,  # noqa: F811
) -> None:
    msg = compose(lea, subject="Contraception", pdf=make_pdf(), headers={HEADER: "Y"})
    assert send(gateway, msg) == 250
    stored = Message.objects.get(conversation__patient=lea)
    assert stored.hidden_from_representatives
    trace = Trace.objects.get(patient_id=lea.pk, action=TraceAction.RECEIVE_MESSAGE)
    assert trace.hidden_from_representatives


def test_no_header_or_n_is_an_ordinary_message(
    gateway: server.Gateway,
    lea: Citizen,
    martin_box: Any,  # noqa: F811
) -> None:
    assert send(gateway, compose(lea, subject="Vaccins")) == 250
    assert send(gateway, compose(lea, subject="Certificat", headers={HEADER: "N"})) == 250
    assert not Message.objects.filter(hidden_from_representatives=True).exists()
    assert Message.objects.count() == 2


def test_the_xdm_confidentiality_code_marks_the_message(
    gateway: server.Gateway,
    lea: Citizen,
    martin_box: Any,  # noqa: F811
) -> None:
    archive = xdm.build(
        [("DOC0001.PDF", "Ordonnance.pdf", "application/pdf", make_pdf("Pilule"))],
        confidentiality=("N", "INVISIBLE_REPRESENTANTS_LEGAUX"),
    )
    assert xdm.read(archive, max_bytes=10**7)[0].secret_care
    assert send(gateway, compose(lea, subject="XDM/1.0/DDM+Ordonnance", zip_bytes=archive)) == 250
    stored = Message.objects.get(conversation__patient=lea)
    assert stored.hidden_from_representatives and stored.attachments.count() == 1


@pytest.mark.parametrize("how", ["header", "xdm"])
def test_refused_for_an_adult_nothing_stored(
    gateway: server.Gateway,
    camille: Citizen,
    martin_box: Any,  # noqa: F811
    how: str,
) -> None:
    before = counts()
    if how == "header":
        msg = compose(camille, pdf=make_pdf(), headers={HEADER: "Y"})
    else:
        archive = xdm.build(
            [("DOC0001.PDF", "CR.pdf", "application/pdf", make_pdf())],
            confidentiality=("INVISIBLE_REPRESENTANTS_LEGAUX",),
        )
        msg = compose(camille, zip_bytes=archive)
    with smtp(gateway) as client:
        client.ehlo()
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(msg)
    assert refused.value.smtp_code == 550
    assert b"majeur" in refused.value.smtp_error
    assert counts() == before


def test_a_header_neither_y_nor_n_is_malformed(
    gateway: server.Gateway,
    lea: Citizen,
    martin_box: Any,  # noqa: F811
) -> None:
    before = counts()
    assert send(gateway, compose(lea, headers={HEADER: "oui"})) == 554
    assert counts() == before
