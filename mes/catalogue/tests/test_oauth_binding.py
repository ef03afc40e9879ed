"""The pairing a token is bound to comes only from the server, never from the client's
parameters (oauthlib answers attribute reads from them)."""

from __future__ import annotations

import pytest
from oauthlib.common import Request

from mes.catalogue.oauth import PAIRING_CREDENTIAL, _pairing_of
from mes.catalogue.testing import glucose_service, pair

pytestmark = pytest.mark.django_db


def test_a_pairing_named_by_the_client_is_ignored(camille):
    pairing = pair(glucose_service(), camille)
    forged = Request(f"https://mes.example/o/token/?{PAIRING_CREDENTIAL}={pairing.pk}")
    assert getattr(forged, PAIRING_CREDENTIAL) == str(pairing.pk)  # what oauthlib would give
    assert _pairing_of(forged) is None
    setattr(forged, PAIRING_CREDENTIAL, str(pairing.pk))  # what the server sets
    assert _pairing_of(forged) == pairing
