"""Running the service: health and readiness probes, Prometheus metrics, structured logs with a
request id, backups and restores (issue 16). An interface app: no business rules here."""
