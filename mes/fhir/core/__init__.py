"""What every FHIR view shares: the door (`access.fhir_endpoint`), the answers and errors
(`outcome`), FHIR JSON and XML (`formats`), request bodies and methods (`http`), CORS (`cors`)."""
