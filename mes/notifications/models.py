"""The in-app notification centre (the bell), one list per profile (portal.md §7)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mes.identity.models import Citizen


class NotificationQuerySet(models.QuerySet["Notification"]):
    def shown_to(self, *, representative: bool) -> NotificationQuerySet:
        """What a viewer of the profile sees: a legal representative never sees the
        notifications about a minor's secret care (R1111-50)."""
        return self.filter(hidden_from_representatives=False) if representative else self


class Notification(models.Model):
    class Code(models.TextChoices):
        NEW_DOCUMENT = "AJOUT_DOCUMENT", "Nouveau document"
        UPDATED_DOCUMENT = "MODIF_DOCUMENT", "Document modifié"
        DELETED_DOCUMENT = "SUPP_DOC", "Document supprimé"
        PRO_ACCESS = "ACCES_DMP_PS", "Accès d'un professionnel"
        BREAK_GLASS = "ACCES_BRIS_GLACE", "Accès en urgence"
        HIDDEN_DOCUMENT_PENDING = "RAPPEL_DOC_INVISIBLE", "Document en attente d'annonce"
        AUTO_RELEASE = "REMISE_VISIBILITE_AUTO", "Document rendu visible"
        PROFILE_SHARE = "PARTAGE_PROFIL", "Partage de la gestion d'un profil"
        # vaccinations (issue 4): « Dr X a mis à jour la rubrique Vaccinations » (portal.md §7.2)
        NEW_VACCINATION = "AJOUT_VACCINATION", "Vaccination ajoutée ou confirmée"
        # The rest of the catalogue of portal.md §7.2, and our own events (wave 2).
        NEW_CONTACT = "AJOUT_ENTOURAGE", "Contact ajouté par un professionnel"
        NEW_MESSAGE = "RECEPTION_MESSAGE", "Nouveau message"
        MESSAGE_NOT_DELIVERED = "ECHEC_ENVOI_MESSAGE", "Message non distribué"
        MEASURE_FROM_DOCUMENT = "COPIE_DOC_AJOUT_MESURE", "Mesure ajoutée depuis un document"
        PREVENTION_DUE = "RAPPEL_RDV_PREV", "Examen médical à planifier"
        VACCINATION_DUE = "RAPPEL_RDV_PREV_VACC", "Vaccination à planifier"
        SCREENING_DUE = "RAPPEL_RDV_PREV_DEPIST", "Dépistage à planifier"
        AGENDA_REMINDER = "RAPPEL_AGENDA", "Rappel"
        APPOINTMENT_REMINDER = "RAPPEL_RDV_USAGER", "Rappel de rendez-vous"
        SUPPORT_REPLY = "REPONSE_SUPPORT", "Réponse du support"
        CARE_HISTORY_FIRST_FEED = "PRIMO_ALIM_MHS", "Mon histoire de santé alimentée"
        DIRECTIVES_REMINDER = "RAPPEL_MODIF_DA", "Rappel des directives anticipées"
        CARER_INVITATION = "PARTAGE_PROFIL_AIDANT", "Invitation d'un proche aidant"
        CARER_ACCEPTED = "ACCORD_PARTAGE_PROFIL_AIDANT", "Invitation acceptée"
        CARER_DECLINED = "REFUS_PARTAGE_PROFIL_AIDANT", "Invitation refusée"
        CARER_REVOKED_BY_CARER = "REVOCATION_PAR_AIDANT", "Délégation arrêtée par l'aidant"
        CARER_REVOKED_BY_AIDED = "REVOCATION_PAR_AIDE", "Délégation arrêtée par l'aidé"
        MAJORITY = "RAPPEL_CONSENT_PASSAGE_MAJO", "Passage à la majorité"
        MAJORITY_REPRESENTATIVE = "RAPPEL_RL_PASSAGE_MAJO", "Passage à la majorité (représentant)"
        TREATING_PHYSICIAN = "DECLARATION_MT", "Médecin traitant déclaré"
        EXPORT_READY = "EXPORT_DONNEES", "Données prêtes à télécharger"
        SHARE_LINK_OPENED = "OUVERTURE_LIEN_PARTAGE", "Lien de partage ouvert"
        SYNCED_SERVICES = "SERVICES_SYNCHRONISES", "Services synchronisés"
        SECURITY_ALERT = "ALERTE_SECURITE", "Alerte de sécurité du compte"
        ESPACE_LIFECYCLE = "VIE_PROFIL", "Ouverture ou clôture du profil"

    # No index of its own: the (profile, read_at) index below serves every lookup by profile,
    # and a second one only costs each insert (the reminder sweep writes thousands).
    profile = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    code = models.CharField(max_length=32, choices=Code.choices)
    label = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    link_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Notifications about a minor's secret care are never shown to the representatives.
    hidden_from_representatives = models.BooleanField(default=False)
    # The idempotency key of the event this notification tells (a reminder's, a campaign's):
    # the notification is its own record of « already said ». Unique where set (a partial
    # index: the notifications without a key do not enter it); a writer that finds the key
    # taken writes nothing, neither here nor on the channels.
    key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 - NULL: no key

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["profile", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(key__isnull=False), name="one_notification_per_key"
            )
        ]


class Category(models.TextChoices):
    """The kinds of event the preferences choose channels for (portal.md §7.3), plus ours."""

    MESSAGES = "NOTIF_MESSAGE", "Messagerie"
    DOCUMENTS = "NOTIF_DOCUMENT", "Documents"
    APPOINTMENTS = "NOTIF_APPOINTMENT", "Examens médicaux, vaccinations et rendez-vous"
    SCREENINGS = "NOTIF_DEPISTAGE", "Dépistages organisés des cancers"
    SYNCED_SERVICES = "NOTIF_SYNCHRONIZED_SERVICE", "Services synchronisés"
    ACCOUNT = "NOTIF_COMPTE", "Profil, partages et autorisations"
    # Never turned off: accesses by professionals, emergency accesses, security (portal §7.3).
    SECURITY = "NOTIF_SECURITE", "Accès à mon dossier et sécurité du compte"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    LETTER = "courrier", "Courrier postal"


class ChannelPreference(models.Model):
    """Per account and kind of event: which channels besides the in-app centre."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=32, choices=Category.choices)
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["citizen", "category"], name="one_pref_per_category")
        ]


class PostalAddress(models.Model):
    """Where letters go, for people with neither e-mail nor mobile phone."""

    citizen = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    lines = models.TextField("adresse postale", max_length=400)


class LetterBatch(models.Model):
    """A printable PDF of letters, one page per letter, for the mail room."""

    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)


class Delivery(models.Model):
    """One message on one channel to one account: an outbox row. Its unique key is the
    idempotency of the send (at most one row per event, recipient and channel); a worker claims
    pending rows (SKIP LOCKED), sends, and marks them sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    # Unique by the constraint below, not by unique=True: on PostgreSQL that adds a second
    # index (varchar_pattern_ops) that no query reads and every outbox row pays for.
    key = models.CharField(max_length=250)
    recipient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    destination = models.CharField(max_length=400)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set on the letters only, once printed: the index holds those rows, not every e-mail's NULL.
    batch = models.ForeignKey(
        LetterBatch, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "channel"]),
            models.Index(
                fields=["batch"], name="delivery_batch_idx", condition=Q(batch__isnull=False)
            ),
        ]
        constraints = [
            # The name PostgreSQL gave the former unique=True: the index is kept as it is.
            models.UniqueConstraint(fields=["key"], name="notifications_delivery_key_key"),
        ]
