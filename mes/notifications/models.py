"""The in-app notification centre (the bell), one list per profile (portal.md §7)."""

from __future__ import annotations

from django.db import models

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

    profile = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="notifications")
    code = models.CharField(max_length=32, choices=Code.choices)
    label = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    link_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Notifications about a minor's secret care are never shown to the representatives.
    hidden_from_representatives = models.BooleanField(default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["profile", "read_at"])]
