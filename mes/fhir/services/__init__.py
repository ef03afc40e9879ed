"""The FHIR API of the catalogue's paired services, under /fhir/services/ (docs/fhir-api.md
« API des services synchronisés »): a token bound to one pairing, one espace, the consented
purposes."""
