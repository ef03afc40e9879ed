"""Register a client of the FHIR API (operators only) and print its credentials once.

mes fhir_client --software "MédiLogiciel" --software-version 4.2 --redirect-uri http://127.0.0.1/cb
mes fhir_client --software "DPI Saint-Louis" --software-version 12.0 --finess 750000010
mes fhir_client --client-id <client_id> --assertion-key cle-publique.pem [--kid cle-2026]
mes fhir_client --list
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from mes.fhir.auth.assertion import register_assertion_key
from mes.fhir.models import FhirClient, register_client
from mes.identity.models import Organisation
from mes.lib.rpps import InvalidIdentifier, parse_finess


class Command(BaseCommand):
    help = "Enregistre un logiciel client de l'API FHIR et affiche ses identifiants (une fois)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--software", help="nom du logiciel (LPS_Nom)")
        parser.add_argument(
            "--software-version", dest="software_version", default="", help="LPS_Version"
        )
        parser.add_argument("--homologation", default="", help="numéro d'homologation DMP")
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="URI de retour (authorization code) ; répétable",
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="client public sans secret (logiciel installé sur un poste ; PKCE seul)",
        )
        parser.add_argument(
            "--finess",
            help="serveur de cette structure (client credentials, en-tête X-Mes-Professionnel)",
        )
        parser.add_argument(
            "--assertion-key",
            dest="assertion_key",
            help=(
                "fichier de la clé publique (PEM ou JWK) dont ce serveur de structure signe ses "
                "assertions (en-tête X-Mes-Assertion et grant jwt-bearer) ; avec --client-id, "
                "l'ajoute à un client existant"
            ),
        )
        parser.add_argument("--kid", default="", help="identifiant de la clé (défaut : empreinte)")
        parser.add_argument(
            "--client-id", dest="client_id", help="client existant (--assertion-key)"
        )
        parser.add_argument("--list", action="store_true", help="lister les clients enregistrés")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for client in FhirClient.objects.select_related("application", "organisation"):
                where = client.organisation.name if client.organisation else "professionnels"
                self.stdout.write(
                    f"{client.application.client_id}\t{client.software_label}\t{where}"
                )
            return
        if options["client_id"]:
            self._add_key(options)
            return
        if not options["software"]:
            raise CommandError("--software est obligatoire.")
        organisation = None
        if options["finess"]:
            try:
                finess = parse_finess(options["finess"])
            except InvalidIdentifier as error:
                raise CommandError(str(error)) from error
            organisation = Organisation.objects.filter(finess=finess).first()
            if organisation is None:
                raise CommandError(f"Aucune structure de FINESS {finess}.")
        with transaction.atomic():  # a client and its key, or nothing
            try:
                registered = register_client(
                    software_name=options["software"],
                    software_version=options["software_version"],
                    homologation_number=options["homologation"],
                    organisation=organisation,
                    redirect_uris=" ".join(options["redirect_uri"]),
                    confidential=not options["public"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
            if options["assertion_key"]:
                self._add_key({**options, "client_id": registered.client_id})
        self.stdout.write(f"client_id={registered.client_id}")
        if registered.client_secret:
            self.stdout.write(f"client_secret={registered.client_secret}")
            self.stdout.write("Conservez ce secret : il n'est stocké que sous forme hachée.")

    def _add_key(self, options: dict[str, Any]) -> None:
        """Register an assertion key for a structure's server (docs/fhir-api.md)."""
        if not options["assertion_key"]:
            raise CommandError("--client-id s'emploie avec --assertion-key.")
        client = FhirClient.objects.filter(application__client_id=options["client_id"]).first()
        if client is None:
            raise CommandError("Aucun client de ce client_id.")
        try:
            key_text = Path(options["assertion_key"]).read_text()
            key = register_assertion_key(client=client, key_text=key_text, kid=options["kid"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"assertion_kid={key.kid}")
