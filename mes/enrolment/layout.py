"""The affiliation file's columns (docs/enrolment-import.md), free of Django so that the
benchmark can generate files without settings."""

COLUMNS = (
    "ins",
    "type_ins",
    "nom_naissance",
    "prenoms",
    "nom_utilise",
    "prenom_utilise",
    "sexe",
    "date_naissance",
    "lieu_naissance",
    "email",
    "telephone",
    "adresse",
    "code_postal",
    "commune",
    "numero_serie_vitale",
    "ins_parent",
    "lien_parent",
)
