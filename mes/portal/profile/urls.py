"""Profil médical (portal.md §2): included at `profil-medical/` in the "portal" namespace."""

from django.urls import URLPattern, URLResolver, path

from mes.medical_profile.rubrics import Rubric

from .views import blood_group, entries, home, lifestyle, organ_donation, professionals

# (path segment, rubric, url name of the list, url name stem of one entry)
RUBRICS = (
    ("maladies", Rubric.DISEASES, "profile_diseases", "profile_disease"),
    ("traitements", Rubric.TREATMENTS, "profile_treatments", "profile_treatment"),
    (
        "hospitalisations",
        Rubric.HOSPITALIZATIONS,
        "profile_hospitalisations",
        "profile_hospitalisation",
    ),
    ("handicaps", Rubric.DISABILITIES, "profile_disabilities", "profile_disability"),
    ("allergies", Rubric.ALLERGIES, "profile_allergies", "profile_allergy"),
    (
        "antecedents-familiaux",
        Rubric.FAMILY_HISTORIES,
        "profile_family_histories",
        "profile_family_history",
    ),
    ("entourage", Rubric.CONTACTS, "profile_entourage", "profile_contact"),
)


def _rubric_patterns() -> list[URLPattern | URLResolver]:
    out: list[URLPattern | URLResolver] = []
    for segment, rubric, list_name, item in RUBRICS:
        kw = {"rubric": rubric}
        out += [
            path(f"{segment}/", entries.rubric_list, kw, name=list_name),
            path(f"{segment}/ajouter/", entries.entry_add, kw, name=f"{item}_add"),
            path(
                f"{segment}/<uuid:entry_id>/modifier/", entries.entry_edit, kw, name=f"{item}_edit"
            ),
            path(
                f"{segment}/<uuid:entry_id>/supprimer/",
                entries.entry_delete,
                kw,
                name=f"{item}_delete",
            ),
        ]
        if rubric is not Rubric.CONTACTS:
            out.append(
                path(f"{segment}/rien-a-ajouter/", entries.not_concerned, kw, name=f"{item}_none")
            )
    return out


urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.profile, name="profile"),
    path("identite/", home.identity, name="profile_identity"),
    *_rubric_patterns(),
    path("groupe-sanguin/", blood_group.blood_group, name="profile_blood_group"),
    path(
        "groupe-sanguin/supprimer/",
        blood_group.blood_group_delete,
        name="profile_blood_group_delete",
    ),
    path("professionnels-de-sante/", professionals.professionals, name="profile_professionals"),
    path(
        "professionnels-de-sante/<uuid:entry_id>/supprimer/",
        professionals.professional_delete,
        name="profile_professional_delete",
    ),
    path("don-organes/", organ_donation.organ_donation, name="profile_organ_donation"),
    path("habitudes-de-vie/", lifestyle.lifestyle, name="profile_lifestyle"),
    path(
        "habitudes-de-vie/<str:section>/",
        lifestyle.lifestyle_section,
        name="profile_lifestyle_section",
    ),
    path(
        "habitudes-de-vie/<str:section>/<str:question>/supprimer/",
        lifestyle.lifestyle_delete,
        name="profile_lifestyle_delete",
    ),
]
