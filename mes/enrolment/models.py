"""The espace's life. For now: who legally represents whom (parents of a child)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mes.identity.models import Citizen


class RepresentationQuerySet(models.QuerySet["LegalRepresentation"]):
    def current(self) -> RepresentationQuerySet:
        now = timezone.now()
        return self.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now), started_at__lte=now)


class LegalRepresentation(models.Model):
    """`representative` manages the espace of `represented` (a minor, or a protected adult)."""

    class Role(models.TextChoices):
        MOTHER = "mother", "Mère"
        FATHER = "father", "Père"
        GUARDIAN = "guardian", "Tuteur légal"

    # No index of its own: the unique (representative, represented) below starts with it and
    # serves every lookup by representative (docs/decisions.md, « Import: indexes »).
    representative = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="represented_links", db_index=False
    )
    represented = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="representative_links"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RepresentationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "represented"], name="one_representation_per_pair"
            )
        ]


class ProfileShareRequest(models.Model):
    """A legal representative asks to share the management of a represented person's profile
    with another legal representative (« Partage du profil », portal.md §6): the second parent,
    or the guardian named by the juge des tutelles. It becomes a LegalRepresentation when the
    invited person accepts « en tant que représentant légal »."""

    represented = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    invitee = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="share_requests")
    role = models.CharField(max_length=16, choices=LegalRepresentation.Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # declined or cancelled

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["represented", "invitee"],
                condition=Q(accepted_at__isnull=True, closed_at__isnull=True),
                name="one_pending_share_per_invitee",
            )
        ]

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.closed_at is None


# --- The espace's life (mes-spec §3.1) ---------------------------------------------------------


class EspaceState(models.TextChoices):
    """The states of mes-spec §3.1. A citizen without an Espace row has the espace they always
    had before enrolment existed: active (docs/decisions.md, « Enrolment »)."""

    NOT_NOTIFIED = "not_notified", "Non encore informé"
    NOTIFIED = "notified", "Informé (délai d'opposition en cours)"
    OPPOSED = "opposed", "Opposé à la création"
    CREATED = "created", "Créé, non activé"
    ACTIVE = "active", "Activé"
    SUSPENDED = "suspended", "Suspendu"
    CLOSED = "closed", "Clôturé (archivé)"
    PURGED = "purged", "Supprimé"


class NoticeChannel(models.TextChoices):
    EMAIL = "email", "e-mail"
    LETTER = "letter", "courrier postal"


class Espace(models.Model):
    """One person's espace: its state, the dates its timers count from, and what the
    affiliation file told us to reach the person (contact data is not health data)."""

    citizen = models.OneToOneField(
        Citizen, primary_key=True, on_delete=models.CASCADE, related_name="espace"
    )
    # Not indexed alone: the (state, …) indexes below start with it (docs/decisions.md,
    # « Import: indexes »).
    state = models.CharField(max_length=16, choices=EspaceState.choices)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Timers count from these (settings.MES_ENROLMENT_*).
    notified_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    purge_due_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    # From the affiliation file (mes-spec §3.2): how to reach the person, and the card.
    vitale_serial = models.CharField("numéro de série de la carte Vitale", max_length=13)
    phone = models.CharField("téléphone mobile", max_length=20, blank=True)
    address = models.CharField("adresse postale", max_length=200, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=100, blank=True)
    # A minor's notices go to the parent the child is attached to (« rattaché », §3.3).
    attached_to = models.ForeignKey(
        Citizen,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attached_espaces",
        db_index=False,  # espace_attached_idx: the children only
    )
    notice_channel = models.CharField(max_length=8, choices=NoticeChannel.choices, blank=True)
    # Guessing the provisional code is stopped per espace (settings.MES_ENROLMENT_CODE_*).
    code_failures = models.PositiveSmallIntegerField(default=0)
    code_locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "notified_at"], name="espace_window_idx"),
            models.Index(fields=["state", "purge_due_at"], name="espace_purge_idx"),
            # A parent's attached children (and SET NULL if a citizen row were ever deleted):
            # only the children's rows are indexed, not the adults' NULLs (four in five rows of
            # an affiliation file, each an index insert at import).
            models.Index(
                fields=["attached_to"],
                name="espace_attached_idx",
                condition=Q(attached_to__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} ({self.get_state_display()})"


class EspaceEvent(models.Model):
    """The history of states (shown to the support desk), one row per transition. The same
    transition is also written on the person's trace chain (mes.audit)."""

    espace = models.ForeignKey(Espace, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=16, choices=EspaceState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=EspaceState.choices)
    actor_kind = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, blank=True)  # en ligne, 3422, automatique
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class EnrolmentCode(models.Model):
    """A provisional code (code provisoire): single use, 6 weeks (mes-spec §3.3). Only its
    HMAC is stored."""

    espace = models.ForeignKey(Espace, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["espace", "-created_at"], name="enrolment_code_idx")]


class ImportRun(models.Model):
    """One affiliation file being imported: its checkpoint makes the import resumable. The
    file is known by its SHA-256, so the same file is resumed, never imported twice."""

    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Committed in the same transaction as each batch: lines [1, next_line) are done.
    next_line = models.PositiveBigIntegerField(default=2)  # line 1 is the header
    byte_offset = models.PositiveBigIntegerField(default=0)
    created = models.PositiveBigIntegerField(default=0)
    already_known = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)


class ImportRejection(models.Model):
    """A bad line of an affiliation file and why (the rejection report)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line"]
        constraints = [
            models.UniqueConstraint(fields=["run", "line"], name="one_rejection_per_line")
        ]


class AccountSession(models.Model):
    """A login session of a citizen, so that they can see and end their other sessions
    (portal.md §5.7). Written when a session logs in; the session itself stays Django's."""

    user = models.ForeignKey(
        "identity.User", on_delete=models.CASCADE, related_name="account_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(max_length=200, blank=True)
