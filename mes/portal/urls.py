from django.urls import include, path

from mes.web.passkey_pages import passkey_urls

from .account import manage as views_manage
from .account import passkeys as views_passkeys
from .account import treating as views_treating
from .account import views as views_account
from .documents import views as views_documents
from .family import views as views_family
from .home import views
from .settings import views as views_settings

app_name = "portal"

urlpatterns = [
    # Shell
    path("", views.home, name="home"),
    path("profil/changer/", views.switch_profile, name="switch_profile"),
    path("plus/", views.more, name="more"),
    path("mon-compte/", views.settings_hub, name="settings"),
    path("mon-compte/raccourcis/", views.shortcuts_manage, name="shortcuts"),
    # Login (identifiant + mot de passe + code à usage unique)
    path("connexion/", views_account.login_view, name="login"),
    path("connexion/code/", views_account.login_code, name="login_code"),
    path("connexion/code-d-abord/", views_account.login_code_first, name="login_code_first"),
    path(
        "connexion/code-d-abord/saisie/",
        views_account.login_code_first_check,
        name="login_code_first_check",
    ),
    path(
        "connexion/cle-d-acces/options/",
        views_account.passkey_login_options,
        name="passkey_login_options",
    ),
    path("connexion/cle-d-acces/", views_account.passkey_login, name="passkey_login"),
    # Appareils associés (passkeys)
    *passkey_urls(views_passkeys.PAGES, "mon-compte/appareils-associes/"),
    path("deconnexion/", views_account.logout_view, name="logout"),
    path("bienvenue/", views_account.onboarding, name="onboarding"),
    path("demo/boite-d-envoi/", views_account.demo_outbox, name="demo_outbox"),
    # The account (portal.md §5.7; issue 14)
    path("mon-compte/mes-informations/", views_manage.information, name="account_information"),
    path("mon-compte/mot-de-passe/", views_manage.password_change, name="account_password"),
    path(
        "mon-compte/mes-informations/contact/", views_manage.contact_change, name="account_contact"
    ),
    path("mon-compte/sessions/fermer/", views_manage.sessions_end, name="account_sessions_end"),
    path("mot-de-passe-oublie/", views_manage.password_forgotten, name="password_forgotten"),
    # Documents
    path("documents/", views_documents.document_list, name="documents"),
    path("documents/ajouter/", views_documents.document_add, name="document_add"),
    path("documents/<uuid:document_id>/", views_documents.document_detail, name="document"),
    path(
        "documents/<uuid:document_id>/apercu/",
        views_documents.document_view,
        name="document_view",
    ),
    path(
        "documents/<uuid:document_id>/telecharger/",
        views_documents.document_download,
        name="document_download",
    ),
    path(
        "documents/<uuid:document_id>/modifier/",
        views_documents.document_edit,
        name="document_edit",
    ),
    path(
        "documents/<uuid:document_id>/supprimer/",
        views_documents.document_delete,
        name="document_delete",
    ),
    path(
        "documents/<uuid:document_id>/confidentialite/",
        views_documents.document_confidentiality,
        name="document_confidentiality",
    ),
    path(
        "documents/<uuid:document_id>/epingle/", views_documents.document_pin, name="document_pin"
    ),
    path(
        "documents/<uuid:document_id>/signaler/",
        views_documents.document_report,
        name="document_report",
    ),
    path("documents/dossiers/", views_documents.folders, name="folders"),
    # Settings, traces, notifications
    path("mon-compte/acces-professionnels/", views_settings.access, name="access"),
    path(
        "mon-compte/medecin-traitant/contester/",
        views_treating.treating_contest,
        name="treating_contest",
    ),
    path("mon-compte/acces-cas-urgence/", views_settings.emergency, name="emergency"),
    path("mon-compte/confidentialite/", views_settings.confidentiality, name="confidentiality"),
    path("mon-compte/historique-activite/", views_settings.history, name="history"),
    path("notifications/", views_settings.notifications, name="notifications"),
    # Children and represented persons: sharing the management of a profile (portal.md §6)
    path("mon-compte/partage-profil/", views_family.share_profile, name="share_profile"),
    path(
        "mon-compte/partage-profil/<int:request_id>/annuler/",
        views_family.share_cancel,
        name="share_cancel",
    ),
    path(
        "mon-compte/partage-profil/demandes/<int:request_id>/",
        views_family.share_invitation,
        name="share_invitation",
    ),
    # Profil médical (issue 4): rubrics, measures, vaccinations, directives and synthesis.
    path("profil-medical/", include("mes.portal.profile.urls")),
    path("profil-medical/mesures/", include("mes.portal.measures.urls")),
    path("profil-medical/vaccinations/", include("mes.portal.vaccinations.urls")),
    path("profil-medical/", include("mes.portal.directives.urls")),
    # Wave 2: each area in its own sub-package.
    path("messagerie/", include("mes.portal.messaging.urls")),
    path("agenda/", include("mes.portal.agenda.urls")),
    path("catalogue-de-services/", include("mes.portal.catalogue.urls")),
    path("catalogue-de-services/", include("mes.portal.catalogue.urls_pairing")),
    path("histoire-de-sante/", include("mes.portal.care_history.urls")),
    path("partage/", include("mes.portal.care_history.urls_share")),  # share links, public
    path("mon-compte/aidants/", include("mes.portal.carers.urls")),
    path("enrolement/", include("mes.portal.enrolment.urls")),
    path("aide/", include("mes.portal.help.urls")),
]
