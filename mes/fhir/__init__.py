"""The FHIR R4 API (docs/fhir-api.md), by area:

- `auth/`: the OAuth2 / OpenID Connect authorisation server on top of django-oauth-toolkit
  (local rules, SMART scopes, structures' signed assertions, the jwt-bearer grant, the per-process
  token cache) and its URLs at the site root (`/o/…`, the discovery documents);
- `core/`: the plumbing every FHIR view shares: the door (`access.fhir_endpoint`), errors as
  OperationOutcome, JSON and XML, request bodies and methods, CORS;
- `mhd/`: the documents for professionals (IHE MHD ITI-65/67/68): `views.py` and the pure
  translation between FHIR and mes.records beside it;
- `resources/`: the other resources for professionals, one module per family (Patient, the
  profil médical's Immunization and RelatedPerson, Appointment, ExplanationOfBenefit) and the
  discovery documents (`metadata.py`);
- `services/`: the API of the catalogue's paired services under /fhir/services/;
- `models.py`: what the DMP knows of each OAuth client; `urls.py`: everything under /fhir/.
"""
