from django.urls import URLPattern, URLResolver, path

from mes.web.passkey_pages import passkey_urls

from . import (
    views,
    views_account,
    views_care_history,
    views_documents,
    views_messaging,
    views_profile,
)

app_name = "pro"

urlpatterns: list[URLPattern | URLResolver] = [
    # Login (RPPS + mot de passe + code à usage unique); the OAuth authorize endpoint sends
    # professionals to pro:login with ?next=.
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
    *passkey_urls(views_account.PASSKEY_PAGES, "appareils-associes/"),
    path("deconnexion/", views_account.logout_view, name="logout"),
    # Finding a patient, the dossier status, consent and emergency access
    path("", views.home, name="home"),
    path("patients/<uuid:patient_id>/", views.patient, name="patient"),
    path(
        "patients/<uuid:patient_id>/autorisation/",
        views.consent_declare,
        name="consent_declare",
    ),
    path(
        "patients/<uuid:patient_id>/autorisation/retirer/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("patients/<uuid:patient_id>/urgence/", views.emergency, name="emergency"),
    path(
        "patients/<uuid:patient_id>/urgence/quitter/",
        views.emergency_end,
        name="emergency_end",
    ),
    # Documents
    path(
        "patients/<uuid:patient_id>/documents/",
        views_documents.document_list,
        name="documents",
    ),
    path(
        "patients/<uuid:patient_id>/documents/deposer/",
        views_documents.document_deposit,
        name="document_deposit",
    ),
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
        "documents/<uuid:document_id>/masquage/",
        views_documents.document_mask,
        name="document_mask",
    ),
    path(
        "documents/<uuid:document_id>/archivage/",
        views_documents.document_archive,
        name="document_archive",
    ),
    path(
        "documents/<uuid:document_id>/supprimer/",
        views_documents.document_delete,
        name="document_delete",
    ),
    path(
        "documents/<uuid:document_id>/rendre-visible/",
        views_documents.document_release,
        name="document_release",
    ),
    # Vaccinations, Entourage et volontés (read only)
    path(
        "patients/<uuid:patient_id>/vaccinations/",
        views_profile.vaccinations,
        name="vaccinations",
    ),
    path(
        "patients/<uuid:patient_id>/histoire-de-sante/",
        views_care_history.care_history,
        name="care_history",
    ),
    path(
        "patients/<uuid:patient_id>/entourage-et-volontes/",
        views_profile.entourage,
        name="entourage",
    ),
    # Messagerie sécurisée (MSSanté): the professional's mailbox, over SMTP to the gateway
    path("messagerie/", views_messaging.mailbox, name="messaging"),
    path(
        "messagerie/<uuid:conversation_id>/",
        views_messaging.conversation,
        name="messaging_conversation",
    ),
    path("messagerie/<uuid:conversation_id>/fin/", views_messaging.close, name="messaging_close"),
    path(
        "messagerie/pieces-jointes/<uuid:attachment_id>/",
        views_messaging.attachment,
        name="messaging_attachment",
    ),
]
