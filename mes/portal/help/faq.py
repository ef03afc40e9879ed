"""« Questions fréquentes » (portal.md §10): our own answers, by theme, about this service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    question: str
    answer: str


@dataclass(frozen=True)
class Theme:
    slug: str
    title: str
    questions: tuple[Question, ...]


FAQ: tuple[Theme, ...] = (
    Theme(
        "acceder-a-mon-espace-sante",
        "Accéder à Mon espace santé",
        (
            Question(
                "Comment me connecter ?",
                "Saisissez votre identifiant et votre mot de passe, puis le code à usage unique "
                "reçu par e-mail ou par SMS. Ce code change à chaque connexion et n'est valable "
                "que quelques minutes.",
            ),
            Question(
                "Je n'ai pas reçu mon code de connexion.",
                "Vérifiez vos courriers indésirables, puis demandez un nouveau code depuis la page "
                "de connexion. Si votre adresse e-mail ou votre numéro de téléphone a changé, "
                "contactez le support.",
            ),
            Question(
                "Pourquoi suis-je renvoyé vers la page de connexion ?",
                "Par sécurité, une page restée ouverte longtemps expire. Il suffit de vous "
                "reconnecter : rien de ce qui était déjà enregistré n'est perdu.",
            ),
        ),
    ),
    Theme(
        "documents",
        "Mes documents de santé",
        (
            Question(
                "Quels documents puis-je ajouter ?",
                "Des fichiers PDF, JPEG ou PNG : ordonnances, comptes rendus, résultats "
                "d'analyses, certificats. Chaque document est chiffré sur le serveur.",
            ),
            Question(
                "Qui peut lire mes documents ?",
                "Vous, et les professionnels de santé que vous avez autorisés, selon leur métier. "
                "Vous pouvez masquer un document aux professionnels à tout moment.",
            ),
            Question(
                "Un document contient une erreur.",
                "Ouvrez le document et choisissez « Signaler un problème » : le professionnel qui "
                "l'a déposé en est informé.",
            ),
        ),
    ),
    Theme(
        "gerer-mes-parametres",
        "Gérer mes paramètres et mes accès",
        (
            Question(
                "Comment savoir qui a consulté mon profil ?",
                "L'historique d'activité liste chaque consultation et chaque action, avec la date, "
                "la personne et son métier.",
            ),
            Question(
                "Comment bloquer un professionnel de santé ?",
                "Dans « Accès des professionnels », recherchez le professionnel et bloquez-le : il "
                "ne pourra plus consulter votre profil, même en cas d'urgence.",
            ),
            Question(
                "Que se passe-t-il en cas d'urgence ?",
                "Un professionnel peut accéder à votre profil en urgence s'il le justifie, sauf si "
                "vous l'avez refusé dans « Accès en cas d'urgence ». Cet accès est tracé et vous "
                "en êtes informé.",
            ),
        ),
    ),
    Theme(
        "enfants-et-proches",
        "Le profil de mes enfants",
        (
            Question(
                "Comment gérer le profil de mon enfant ?",
                "Le profil d'un enfant mineur est géré par ses représentants légaux. Choisissez "
                "son profil dans le menu en haut de page pour le consulter.",
            ),
            Question(
                "L'autre parent peut-il aussi gérer le profil ?",
                "Oui : depuis « Partage du profil », invitez l'autre représentant légal. Il "
                "accepte l'invitation depuis son propre espace.",
            ),
        ),
    ),
)
