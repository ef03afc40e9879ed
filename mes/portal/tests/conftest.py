"""The signed-in clients the portal's view tests share: the holder (Camille), another citizen
(Bob) and a professional (Dr Durand), who must find nothing of Camille's on the portal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def as_camille(client: Client, camille: Any) -> Client:
    client.force_login(camille.user)
    return client


@pytest.fixture
def as_bob(client: Client, bob: Any) -> Client:
    client.force_login(bob.user)
    return client


@pytest.fixture
def as_durand(client: Client, dr_durand: Any) -> Client:
    client.force_login(dr_durand.user)
    return client
