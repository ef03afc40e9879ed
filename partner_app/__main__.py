"""python -m partner_app: serve the sample app (Glycémie Plus) on localhost."""

from __future__ import annotations

import argparse
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from .app import Config, PartnerApp

DEMO_CLIENT_ID = "glycemie-plus-demo"
DEMO_EDITOR_OID = "1.2.250.1.999.42"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo's console belongs to Mon espace santé's processes."""


def main() -> None:
    parser = argparse.ArgumentParser(description="Glycémie Plus, application partenaire de démo")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--mes-url", default="http://127.0.0.1:8000")
    parser.add_argument("--fhir-base", default="", help="(défaut : <mes-url>/fhir/services)")
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--editor-oid", default=DEMO_EDITOR_OID)
    parser.add_argument("--state-dir", type=Path, default=Path("var/partner_app"))
    args = parser.parse_args()
    mes_url = args.mes_url.rstrip("/")
    config = Config(
        mes_url=mes_url,
        fhir_base=args.fhir_base or f"{mes_url}/fhir/services",
        client_id=args.client_id,
        editor_oid=args.editor_oid,
        public_url=f"http://127.0.0.1:{args.port}",
        state_dir=args.state_dir,
    )
    with make_server("127.0.0.1", args.port, PartnerApp(config), handler_class=QuietHandler) as s:
        s.serve_forever()


if __name__ == "__main__":
    main()
