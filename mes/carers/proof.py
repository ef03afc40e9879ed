"""The « justificatif d'accès » (portal.md §5.8): a PDF saying who acts for whom, since when and
until when, and what the aidant may and may not do. Saved in both espaces when the aidant accepts.
Laid out with the profil médical's reportlab layout (mes.medical_profile.pdf)."""

from __future__ import annotations

from django.utils import timezone

from mes.medical_profile import pdf

from .models import CarerDelegation

MAY = (
    "consulter, ajouter, modifier et supprimer les données et les documents de l'espace ;",
    "lire et envoyer des messages aux professionnels de santé de la personne aidée ;",
    "recevoir les notifications de l'espace.",
)
MAY_NOT = (
    "gérer l'accès d'autres proches aidants ;",
    "modifier les coordonnées, l'identifiant ou le mot de passe du compte ;",
    "demander la clôture ou la suppression de l'espace, ni le téléchargement de ses données.",
)


def render(delegation: CarerDelegation) -> bytes:
    """The justificatif of one delegation, as PDF bytes (reproducible for the same delegation)."""
    aided, carer = delegation.aided, delegation.carer
    since = timezone.localtime(delegation.started_at).date()
    until = timezone.localtime(delegation.ends_at).date()
    blocks: list[pdf.Block] = [
        pdf.Heading("Accès complet validé"),
        pdf.Fields(
            (
                ("Personne aidée", aided.display_name),
                ("Proche aidant", carer.display_name),
                ("Date de naissance du proche aidant", pdf.french_date(carer.birth_date)),
                ("Accès accordé le", pdf.french_date(since)),
                ("Valide jusqu'au", pdf.french_date(until)),
            )
        ),
        pdf.Para(
            f"{aided.display_name} a donné accès à son profil Mon espace santé à "
            f"{carer.display_name}, qui l'a accepté. Chacun peut y mettre fin à tout moment "
            "depuis la rubrique « Proches aidants » de son compte."
        ),
        pdf.Heading("Le proche aidant peut", level=2),
        *(pdf.Para(f"• {line}") for line in MAY),
        pdf.Heading("Le proche aidant ne peut pas", level=2),
        *(pdf.Para(f"• {line}") for line in MAY_NOT),
        pdf.Note(
            "Chaque action du proche aidant est enregistrée dans l'historique d'activité de la "
            "personne aidée, à son nom."
        ),
    ]
    return pdf.render(
        title="Justificatif d'accès – proche aidant",
        identity=pdf.Identity.of(aided),
        blocks=blocks,
        author="Mon espace santé",
    )
