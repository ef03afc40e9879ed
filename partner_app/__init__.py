"""« Glycémie Plus »: a sample partner app of the catalogue, run beside the demo.

A glucose-meter companion as a referenced service would be: it sends the citizen to Mon espace
santé to pair (OAuth 2.0 authorization code + PKCE, with Authlib's client), then pushes a day of
glucose readings (one transaction Bundle per reading, mes-spec §9.2) and its AGP report (a PDF in
the citizen's Documents) through the apps' FHIR API. It is a separate program that talks to the
service only over HTTP, like any editor's app: nothing here imports `mes`.
"""
