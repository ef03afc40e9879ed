"""The access trace: append-only, hash-chained per patient (DESIGN.md §5, mes-spec §5.8)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class TraceAction(models.TextChoices):
    LOGIN = "CONNEXION", "Connexion"
    CONSULT_DOSSIER = "CONSULT_DOSSIER", "Consultation de la liste des documents"
    CONSULT_DOC = "CONSULT_DOC", "Consultation d'un document"
    DOWNLOAD_DOC = "TELECHARGEMENT_DOC", "Téléchargement d'un document"
    DEPOSIT_DOC = "DEPOT_DOC", "Ajout d'un document"
    REPLACE_DOC = "REMPLACEMENT_DOC", "Remplacement d'un document"
    UPDATE_DOC = "MODIF_DOC", "Modification d'un document"
    DELETE_DOC = "SUPPRESSION_DOC", "Suppression d'un document"
    MASK_DOC = "MASQUAGE_DOC", "Masquage d'un document aux professionnels"
    UNMASK_DOC = "DEMASQUAGE_DOC", "Démasquage d'un document"
    PIN_DOC = "EPINGLAGE_DOC", "Épinglage d'un document"
    UNPIN_DOC = "DESEPINGLAGE_DOC", "Retrait de l'épingle d'un document"
    REPORT_DOC = "SIGNALEMENT_DOC", "Signalement d'un problème sur un document"
    FOLDER = "MODIF_DOSSIERS", "Organisation des dossiers"
    BLOCK_PRO = "BLOCAGE_PS", "Blocage d'un professionnel"
    UNBLOCK_PRO = "DEBLOCAGE_PS", "Déblocage d'un professionnel"
    GRANT_PRO = "AUTORISATION_PS", "Autorisation d'un professionnel"
    REVOKE_PRO = "RETRAIT_AUTORISATION_PS", "Retrait de l'autorisation d'un professionnel"
    SET_ADMIN = "ATTRIBUTION_STATUT_MEDECIN_ADMIN", "Désignation de l'administrateur"
    UNSET_ADMIN = "RETRAIT_STATUT_MEDECIN_ADMIN", "Retrait de l'administrateur"
    EMERGENCY_SETTINGS = "MODIF_PARAM_ACCESS_URGENCE", "Modification des accès en cas d'urgence"
    PRIVACY_SETTINGS = "MODIF_CONFIDENTIALITE", "Modification de la confidentialité par défaut"
    CONSULT_HISTORY = "CONSULT_HISTORIQUE", "Consultation de l'historique d'activité"
    CONSULT_ACCESS = "CONSULT_RUBRIQUE_ACCES", "Consultation des accès des professionnels"
    BREAK_GLASS = "ACCES_BRIS_GLACE", "Accès en mode bris de glace"
    NOTIFICATIONS = "MODIF_NOTIFICATIONS", "Gestion des notifications"
    # Professionals (issue 3)
    DECLARE_TREATING = "DECLARATION_MEDECIN_TRAITANT", "Déclaration comme médecin traitant"
    CENTRE_15 = "ACCES_CENTRE_15", "Accès par le Centre 15 (régulation du SAMU)"
    ARCHIVE_DOC = "ARCHIVAGE_DOC", "Archivage d'un document"
    UNARCHIVE_DOC = "DESARCHIVAGE_DOC", "Désarchivage d'un document"
    RELEASE_DOC = "REMISE_DOC_PATIENT", "Document rendu visible au patient après annonce"
    SEARCH_PATIENT = "RECHERCHE_PATIENT", "Recherche du dossier par un professionnel"
    # enrolment (issue 4): sharing a child's profile with the second legal representative
    SHARE_PROFILE = "PARTAGE_PROFIL", "Partage de la gestion du profil"
    ACCEPT_SHARE = "ACCEPTATION_PARTAGE_PROFIL", "Acceptation du partage de la gestion du profil"
    CANCEL_SHARE = "ANNULATION_PARTAGE_PROFIL", "Annulation du partage de la gestion du profil"
    # measures (issue 4): the measure's label goes in document_title (« … mesure de santé Poids »)
    CONSULT_MEASURES = "CONSULT_RUBRIQUE_MESURES", "Consultation des mesures de santé"
    ADD_MEASURE = "AJOUT_MESURE", "Ajout d'une valeur de mesure de santé"
    UPDATE_MEASURE = "MODIF_MESURE", "Modification d'une valeur de mesure de santé"
    DELETE_MEASURE = "SUPP_MESURE", "Suppression d'une valeur de mesure de santé"
    MEASURE_TILES = "MODIF_TUILES_MESURES", "Choix des mesures affichées"
    # medical_profile (issue 4): the rubric's label goes in document_title (« Allergies »)
    CONSULT_PROFILE = "CONSULT_RUBRIQUE_PROFIL_MEDICAL", "Consultation du profil médical"
    ADD_PROFILE_ENTRY = "AJOUT_PROFIL_MEDICAL", "Ajout dans le profil médical"
    UPDATE_PROFILE_ENTRY = "MODIF_PROFIL_MEDICAL", "Modification du profil médical"
    DELETE_PROFILE_ENTRY = "SUPP_PROFIL_MEDICAL", "Suppression dans le profil médical"
    CONSULT_ENTOURAGE = "CONSULT_RUBRIQUE_ENTOURAGE", "Consultation de l'entourage et des volontés"
    ADD_CONTACT = "AJOUT_MEMBRE_ENTOURAGE", "Ajout d'un membre de l'entourage"
    UPDATE_CONTACT = "MODIF_MEMBRE_ENTOURAGE", "Modification d'un membre de l'entourage"
    DELETE_CONTACT = "SUPP_MEMBRE_ENTOURAGE", "Suppression d'un membre de l'entourage"
    ORGAN_DONATION = "MODIF_DECLA_DON_ORGANE", "Déclaration relative au don d'organes"
    # vaccinations (issue 4): the vaccine's name goes in document_title (« VAXIGRIPTETRA »)
    CONSULT_VACCINATIONS = "CONSULT_RUBRIQUE_VACCINATIONS", "Consultation des vaccinations"
    ADD_VACCINATION = "AJOUT_VACCINATION", "Ajout d'une vaccination"
    UPDATE_VACCINATION = "MODIF_VACCINATION", "Modification d'une vaccination"
    DELETE_VACCINATION = "SUPP_VACCINATION", "Suppression d'une vaccination"
    CONFIRM_VACCINATION = "CONFIRMATION_VACCINATION", "Confirmation d'une vaccination"
    # shell and help (issue 8): a refused change of the home shortcuts; a support request
    SHORTCUTS = "MODIF_RACCOURCIS", "Modification des raccourcis de l'accueil"
    SUPPORT_REQUEST = "DEMANDE_SUPPORT", "Demande adressée au support"
    DOWNLOAD_VACCINATIONS = (
        "TELECHARGEMENT_SYNTHESE_VACCINATIONS",
        "Téléchargement de la synthèse des vaccinations",
    )
    # sign-in and documents (issues 8 and 13): passkeys, the document viewer, the médecin
    # traitant declared by a professional and contested by the patient
    ADD_PASSKEY = "AJOUT_CLE_ACCES", "Association d'un appareil (clé d'accès)"
    REMOVE_PASSKEY = "SUPP_CLE_ACCES", "Retrait d'un appareil associé (clé d'accès)"
    VIEW_DOC = "AFFICHAGE_DOC", "Affichage d'un document"
    CONTEST_TREATING = "CONTESTATION_MEDECIN_TRAITANT", "Contestation du médecin traitant déclaré"
    # The espace's life (mes.enrolment, mes-spec §3) and the account (portal.md §5.7)
    ESPACE_NOTIFIED = "INFORMATION_CREATION_PROFIL", "Information sur la création du profil"
    ESPACE_OPPOSED = "OPPOSITION_CREATION_PROFIL", "Opposition à la création du profil"
    ESPACE_CREATED = "CREATION_PROFIL", "Création du profil"
    ESPACE_ACTIVATED = "ACTIVATION_PROFIL", "Activation du profil"
    ESPACE_SUSPENDED = "SUSPENSION_PROFIL", "Suspension du profil"
    ESPACE_CLOSED = "CLOTURE_PROFIL", "Clôture du profil"
    ESPACE_REOPENED = "REOUVERTURE_PROFIL", "Réouverture du profil"
    ESPACE_DELETION_ASKED = "DEMANDE_SUPPRESSION_PROFIL", "Demande de suppression du profil"
    ESPACE_PURGED = "SUPPRESSION_PROFIL", "Suppression définitive du profil"
    ENROLMENT_CODE = "CODE_PROVISOIRE", "Envoi d'un code provisoire"
    MAJORITY = "PASSAGE_MAJORITE", "Passage à la majorité"
    SUPPORT_CONSULT = "CONSULT_SUPPORT", "Consultation de l'état du profil par le support"
    ACCOUNT_CHANGE = "MODIF_COMPTE", "Modification du compte"
    # messaging (issue 9): wave2.md §1.1 UserActionEnum; the subject goes in document_title.
    CONSULT_MESSAGING = "CONSULT_RUBRIQUE_MESSAGERIE", "Consultation de la messagerie"
    CONSULT_MESSAGE = "CONSULT_MESSAGE", "Lecture d'un message"
    SEND_MESSAGE = "ENVOI_MESSAGE", "Envoi d'un message"
    RECEIVE_MESSAGE = "RECEPTION_MESSAGE", "Réception d'un message"
    DELETE_CONVERSATION = "SUPPRESSION_CONVERSATION", "Suppression d'une conversation"
    CLOSE_CONVERSATION = "CLOTURE_CONVERSATION", "Fin des échanges d'une conversation"
    # agenda (issue 10): the appointment's title or the item's label goes in document_title
    CONSULT_AGENDA = "CONSULT_AGENDA", "Consultation de l'agenda de santé"
    ADD_APPOINTMENT = "AJOUT_RDV", "Ajout d'un rendez-vous"
    UPDATE_APPOINTMENT = "MODIF_RDV", "Modification d'un rendez-vous"
    CANCEL_APPOINTMENT = "ANNULATION_RDV", "Annulation d'un rendez-vous"
    CONSULT_APPOINTMENT = "CONSULT_RDV", "Consultation d'un rendez-vous"
    UPDATE_PREVENTION = "MODIF_EXAMEN_PREVENTION", "Mise à jour d'un examen de prévention"
    PREVENTION_SETTINGS = "MODIF_PREVENTION_PERSONNALISEE", "Choix de la prévention personnalisée"
    CALENDAR_FEED = "ABONNEMENT_AGENDA", "Abonnement iCalendar à l'agenda"
    CALENDAR_FEED_READ = "LECTURE_ABONNEMENT_AGENDA", "Lecture de l'abonnement iCalendar"
    # carers (issue 15): the other person's name goes in document_title
    CARER_INVITE = "INVITATION_AIDANT", "Invitation d'un proche aidant"
    CARER_CANCEL = "ANNULATION_INVITATION_AIDANT", "Annulation de l'invitation d'un proche aidant"
    CARER_ACCEPT = "ACCORD_AIDANT", "Accès accordé à un proche aidant"
    CARER_REFUSE = "REFUS_AIDANT", "Invitation refusée par le proche aidant"
    CARER_REVOKE = "FIN_ACCES_AIDANT", "Fin de l'accès d'un proche aidant"
    CONSULT_CARERS = "CONSULT_AIDANTS", "Consultation des proches aidants"
    # care history (issue 15): Mon histoire de santé
    CARE_HISTORY_FEED = "ALIM_HISTOIRE_SANTE", "Alimentation de Mon histoire de santé"
    CONSULT_CARE_HISTORY = "CONSULT_HISTOIRE_SANTE", "Consultation de Mon histoire de santé"
    CARE_HISTORY_PRIVACY = (
        "MODIF_CONFIDENTIALITE_MHS",
        "Modification de la confidentialité de Mon histoire de santé",
    )
    # data download and share links (issue 15)
    EXPORT_REQUEST = "DEMANDE_TELECHARGEMENT_DONNEES", "Demande de téléchargement des données"
    EXPORT_DOWNLOAD = "TELECHARGEMENT_DONNEES", "Téléchargement des données"
    SHARE_LINK_CREATE = "CREATION_LIEN_PARTAGE", "Création d'un lien de partage"
    SHARE_LINK_REVOKE = "REVOCATION_LIEN_PARTAGE", "Révocation d'un lien de partage"
    SHARE_LINK_OPEN = "OUVERTURE_LIEN_PARTAGE", "Ouverture d'un lien de partage"
    # catalogue (issue 11): the service's name goes in document_title (« Glycéo — Ajouter mon
    # glucose sanguin » for a purpose); operators' actions are on the system chain.
    CONSULT_SYNCED_SERVICES = (
        "CONSULT_SERVICES_SYNCHRONISES",
        "Consultation des services synchronisés",
    )
    PAIRING_CONSENT_GIVEN = (
        "AJOUT_AUTORISATION_SERVICE",
        "Autorisation donnée à un service synchronisé",
    )
    PAIRING_CONSENT_WITHDRAWN = (
        "RETRAIT_AUTORISATION_SERVICE",
        "Autorisation retirée à un service synchronisé",
    )
    PAIRING_REAPPROVED = "MAJ_AUTORISATIONS_SERVICE", "Mise à jour des autorisations d'un service"
    UNPAIR = "DESYNCHRONISATION_SERVICE", "Désynchronisation d'un service"
    PAIRING_LAPSED = (
        "ARRET_SYNCHRONISATION_SERVICE",
        "Synchronisation arrêtée faute de mise à jour des autorisations",
    )
    REPORT_SERVICE = "SIGNALEMENT_SERVICE", "Signalement d'un service du catalogue"
    CATALOGUE_SERVICE_EDIT = "GESTION_SERVICE_CATALOGUE", "Référencement d'un service au catalogue"
    CATALOGUE_SERVICE_STATUS = "STATUT_SERVICE_CATALOGUE", "Changement du statut d'un service"
    CATALOGUE_NEW_RIGHTS = "NOUVEAUX_DROITS_SERVICE", "Publication de nouveaux droits d'un service"
    CATALOGUE_REPORT_CLOSE = "CLOTURE_SIGNALEMENT_SERVICE", "Clôture d'un signalement de service"
    # catalogue (issue 11): the service's name goes in document_title
    SERVICE_PAIR = "SYNCHRO_SERVICE", "Synchronisation d'un service"
    SERVICE_TOKEN = "JETON_SERVICE", "Jeton d'un service synchronisé"
    SERVICE_PROFILE_SEND = "ENVOI_PROFIL_SERVICE", "Envoi de la synthèse médicale à un service"


class TraceOutcome(models.TextChoices):
    ALLOWED = "allowed", "Autorisé"
    REFUSED = "refused", "Refusé"


class AppendOnlyQuerySet(models.QuerySet["Trace"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("La trace d'accès ne se modifie pas.")

    def delete(self) -> NoReturn:
        raise PermissionError("La trace d'accès ne se supprime pas.")


class Trace(models.Model):
    """One access or action on a patient's dossier, allowed or refused.

    `chain` is the patient's id (or "system" for actions on no dossier); `seq` numbers the rows
    of a chain from 1, and `hash` is an HMAC, under the trace key `key_id` names, of every field
    plus the previous row's hash (mes.audit.keys): without the key, no row can be forged.
    """

    chain = models.CharField(max_length=36)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    patient_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=40, choices=TraceAction.choices)
    outcome = models.CharField(max_length=8, choices=TraceOutcome.choices)
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64)  # idNat, INS, or a system name
    actor_name = models.CharField(max_length=200)
    # The citizen account that acted, when a legal representative acted for the patient.
    acting_citizen_id = models.UUIDField(null=True)
    profession = models.CharField(max_length=8, blank=True)
    specialty = models.CharField(max_length=8, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    access_mode = models.CharField(max_length=16)
    justification = models.TextField(blank=True)
    document_id = models.UUIDField(null=True)
    document_title = models.CharField(max_length=255, blank=True)
    software = models.CharField(max_length=200, blank=True)
    matrix_version = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)  # why refused, for operators
    # Secret care of a minor (R1111-50): never shown to the legal representatives.
    hidden_from_representatives = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Fingerprint of the key that sealed the row; "" only for rows written before the key
    # existed and left unsealed by migration 0008 because their chain was already broken.
    key_id = models.CharField(max_length=16, blank=True, default="")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="trace_chain_seq")]
        indexes = [
            models.Index(fields=["patient_id", "-at"]),
            # « first access by this professional? » (notify_first_access) on every read.
            models.Index(fields=["patient_id", "actor_id"]),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("La trace d'accès ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("La trace d'accès ne se supprime pas.")


class ChainHead(models.Model):
    """The last row of each chain, locked while a row is appended (serialises one chain)."""

    chain = models.CharField(max_length=36, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
