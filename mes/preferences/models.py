"""A profile's display preferences: « Mes raccourcis » of the home page (portal.md §1.4).

Not health data: which shortcuts the holder (or a legal representative) pinned on the home page
of a profile. The codes are the real service's catalogue; the portal maps each code to a page,
and a shortcut whose page is not built in this deployment is simply not shown.
"""

from __future__ import annotations

from django.db import models

from mes.identity.models import Citizen


class Shortcut(models.TextChoices):
    """« Gérer mes raccourcis »: the catalogue, in groups (portal.md §1.4)."""

    DISEASES = "MALADIES", "Voir mes maladies et sujets de santé"
    TREATMENTS = "TRAITEMENTS", "Voir mes traitements"
    VACCINATIONS = "VACCINATIONS", "Voir mes vaccinations"
    ADD_TREATMENT = "AJOUT_TRAITEMENT", "Ajouter un traitement"
    ADD_VACCINATION = "AJOUT_VACCINATION", "Ajouter une vaccination"
    MEASURES = "MESURES", "Voir mes mesures"
    PROFESSIONALS = "PROFESSIONNELS", "Voir mes professionnels de santé"
    ADD_DOCUMENT = "AJOUT_DOCUMENT", "Ajouter un document"
    FOLDERS = "DOSSIERS", "Ajouter un dossier"
    PINNED = "EPINGLES", "Afficher mes documents épinglés"
    WRITE_MESSAGE = "ECRIRE_MESSAGE", "Écrire un message"
    AGENDA = "AGENDA", "Voir mon agenda"
    CATALOGUE = "CATALOGUE", "Accéder au catalogue de services"
    ACCESS = "ACCES", "Gérer les accès des professionnels de santé"
    HISTORY = "HISTORIQUE", "Accéder à l'historique d'activité"


class HomeShortcut(models.Model):
    """One shortcut pinned on a profile's home page, at its position (0 first)."""

    profile = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="home_shortcuts")
    code = models.CharField(max_length=20, choices=Shortcut.choices)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["profile", "position"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="shortcut_once_per_profile"),
            models.UniqueConstraint(
                fields=["profile", "position"], name="shortcut_position_once_per_profile"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} #{self.position}"
