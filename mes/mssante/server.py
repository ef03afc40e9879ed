"""The MSSanté gateway (`mes smtp-gateway`): SMTP with STARTTLS, and LMTP for a Postfix in front.

Mail is accepted for `<INS>@<patient domain>` only, from the operator domains of the liste
blanche. Each recipient is checked at RCPT; at DATA the message is parsed and stored (rows and
encrypted blobs committed) before the 250. Every refusal stores nothing:

    550 5.1.1  unknown or closed espace          550 5.7.1  sender outside the trust space,
                                                            or secret care for an adult
    552 5.3.4  too large (SIZE or DATA)          554 5.6.0  malformed (MIME, XDM, NUL ...)
    451 4.3.0  temporary failure (database, storage): the sender retries

The Django ORM is synchronous: every database step runs in a thread pool, never on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.urls import get_resolver

from mes.access.actors import system_actor
from mes.lib.errors import InvalidInput
from mes.messaging import actions
from mes.vault.store import VaultError

from . import operators, parsing, tls

logger = logging.getLogger("mes.mssante")

GATEWAY_ACTOR = "passerelle-mssante"
INS_LOCAL_PART = re.compile(r"^[0-9]{15}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

T = TypeVar("T")

OK = "250 2.0.0 Message accepté"
UNKNOWN_ESPACE = "550 5.1.1 Destinataire inconnu : aucun espace santé ouvert à cette adresse"
SENDER_REFUSED = "550 5.7.1 Expéditeur hors de l'espace de confiance MSSanté"
MALFORMED = "554 5.6.0 Message illisible"
TEMPORARY = "451 4.3.0 Erreur temporaire, réessayez plus tard"
# A minor's secret care (INVISIBLE_REPRESENTANTS_LEGAUX) for a patient of 18 or over: refused
# for good, as the DMP refuses the label on an adult's document (nothing stored).
HIDDEN_FROM_REPS_ADULT = (
    "550 5.7.1 Invisibilite aux representants legaux refusee : le patient est majeur, "
    "seul le message a un mineur peut la porter"
)


def _ascii(text: str) -> str:
    # SMTP replies are ASCII: the French messages lose their accents, not their meaning.
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class GatewayHandler:
    def __init__(self, executor: ThreadPoolExecutor, *, lmtp: bool = False) -> None:
        self.executor = executor
        self.lmtp = lmtp

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            close_old_connections()
            try:
                return fn(*args)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self.executor, run)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if _CONTROL.search(address):
            return _ascii(MALFORMED)
        # The null sender is accepted for delivery status notifications only (checked at DATA).
        # (kept as "<>": aiosmtpd takes an empty mail_from for "no MAIL command yet").
        if address in ("", "<>"):
            address = "<>"
        elif not operators.is_allowed(address):
            return _ascii(SENDER_REFUSED)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local, _, domain = address.rpartition("@")
        if domain.lower() != settings.MES_MSSANTE_PATIENT_DOMAIN or not INS_LOCAL_PART.match(local):
            return _ascii(UNKNOWN_ESPACE)
        try:
            exists = await self._in_thread(lambda: actions.espace_of(local) is not None)
        except DatabaseError:
            logger.exception("passerelle : base indisponible au RCPT")
            return _ascii(TEMPORARY)
        if not exists:
            return _ascii(UNKNOWN_ESPACE)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        mail_from = "" if envelope.mail_from == "<>" else envelope.mail_from or ""
        replies = await self._in_thread(ingest, data, mail_from, list(envelope.rcpt_tos))
        replies = [_ascii(r) for r in replies]
        if self.lmtp:
            return "\r\n".join(replies)  # RFC 2033: one reply per accepted recipient
        # SMTP has one reply: the worst one (a retry stores nothing twice: Message-ID).
        for prefix in ("4", "5"):
            for reply in replies:
                if reply.startswith(prefix):
                    return reply
        return replies[0]


def ingest(data: bytes, mail_from: str, recipients: list[str]) -> list[str]:
    """Parse once, store for each recipient; one reply per recipient."""
    actor = system_actor(GATEWAY_ACTOR)
    try:
        parsed = parsing.parse(data, max_bytes=settings.MES_MSSANTE_MAX_MESSAGE_BYTES * 4)
    except parsing.Malformed as exc:
        return [f"554 5.6.0 {exc}"] * len(recipients)
    replies = []
    for rcpt in recipients:
        ins = rcpt.rpartition("@")[0]
        replies.append(_deliver_one(actor, parsed, mail_from, ins))
    return replies


def _deliver_one(
    actor: Any, parsed: actions.IncomingMail | parsing.Bounce, mail_from: str, ins: str
) -> str:
    try:
        if isinstance(parsed, parsing.Bounce):
            if mail_from:
                return "554 5.6.0 Avis de non-distribution attendu avec l'expéditeur vide"
            actions.bounce_receive(
                actor=actor,
                patient_ins=ins,
                original_message_id=parsed.original_message_id,
                reason=parsed.reason,
            )
            return OK
        if not mail_from:
            return SENDER_REFUSED
        if not operators.is_allowed(parsed.sender_address):
            return SENDER_REFUSED
        actions.message_receive(actor=actor, patient_ins=ins, mail=parsed)
        return OK
    except actions.UnknownRecipient:
        return UNKNOWN_ESPACE
    except actions.UnknownSender:
        return "550 5.7.1 Expediteur absent de l'annuaire MSSante ou boite desactivee"
    except actions.SecretCareForAdult:
        return HIDDEN_FROM_REPS_ADULT
    except InvalidInput as exc:
        return f"554 5.6.0 {exc}"
    except (DatabaseError, VaultError, OSError):
        logger.exception("passerelle : échec temporaire à l'enregistrement")
        return TEMPORARY


class LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Gateway:
    """The running servers (SMTP, and LMTP when a port is given)."""

    smtp: Controller
    lmtp: Controller | None
    executor: ThreadPoolExecutor

    def stop(self) -> None:
        self.smtp.stop()
        if self.lmtp is not None:
            self.lmtp.stop()
        self.executor.shutdown(wait=True)


def start(
    *,
    host: str | None = None,
    smtp_port: int | None = None,
    lmtp_port: int | None = None,
    require_starttls: bool | None = None,
    threads: int = 4,
) -> Gateway:
    """Start the gateway's servers in background threads (the command waits on them)."""
    host = host or settings.MES_MSSANTE_GATEWAY_HOST
    # aiosmtpd logs each command at INFO, addresses (INS) included: never in our logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    smtp_port = settings.MES_MSSANTE_GATEWAY_PORT if smtp_port is None else smtp_port
    lmtp_port = settings.MES_MSSANTE_LMTP_PORT if lmtp_port is None else lmtp_port
    if require_starttls is None:
        require_starttls = settings.MES_MSSANTE_REQUIRE_STARTTLS
    # Import the URL configuration now (notifications link to the portal): the first message
    # would otherwise pay for it, seconds on a loaded machine.
    get_resolver().url_patterns  # noqa: B018
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mssante")
    common: dict[str, Any] = {
        "data_size_limit": settings.MES_MSSANTE_MAX_MESSAGE_BYTES,
        "decode_data": False,
        "enable_SMTPUTF8": False,
        "ident": "Mon espace sante - passerelle MSSante",
    }
    smtp = Controller(
        GatewayHandler(executor),
        hostname=host,
        port=smtp_port,
        tls_context=tls.server_context(),
        require_starttls=require_starttls,
        **common,
    )
    smtp.start()
    lmtp = None
    if lmtp_port:
        # LMTP listens for a local Postfix that already did TLS with the operators.
        lmtp = LMTPController(
            GatewayHandler(executor, lmtp=True), hostname=host, port=lmtp_port, **common
        )
        lmtp.start()
    return Gateway(smtp=smtp, lmtp=lmtp, executor=executor)
