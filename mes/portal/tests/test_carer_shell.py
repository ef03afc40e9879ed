"""The shell offers « Partage du profil » to a legal representative on the child's profile, and
not to an aidant on the aidé's: that page is the representatives' and answered 404 to Isabelle
acting for Jacqueline (found walking the demo)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.carers.tests.conftest import delegate, make_isabelle, make_jacqueline
from mes.portal.tests.test_carers_views import _as

SHARE = reverse("portal:share_profile")


@pytest.mark.parametrize("page", ["portal:home", "portal:more"])
def test_an_aidant_is_not_offered_the_representatives_page(client, db, page):
    jacqueline, isabelle = make_jacqueline(), make_isabelle()
    delegate(jacqueline, isabelle)
    _as(client, isabelle, jacqueline)
    answer = client.get(reverse(page))
    assert answer.status_code == 200
    assert "Profil de Jacqueline" in answer.content.decode() or page != "portal:home"
    assert f'href="{SHARE}"' not in answer.content.decode()
    assert client.get(SHARE).status_code == 404


@pytest.mark.parametrize("page", ["portal:home", "portal:more"])
def test_a_parent_is_offered_it_on_her_childs_profile(client, camille, louis, page):
    _as(client, camille, louis)
    answer = client.get(reverse(page))
    assert f'href="{SHARE}"' in answer.content.decode()
    assert client.get(SHARE).status_code == 200


def test_nobody_is_offered_it_on_their_own_profile(client, camille):
    _as(client, camille, camille)
    assert f'href="{SHARE}"' not in client.get(reverse("portal:more")).content.decode()
