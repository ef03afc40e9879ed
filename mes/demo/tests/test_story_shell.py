"""The demo's home shortcuts, loaded after the dataset, twice."""

from __future__ import annotations

from datetime import date

from mes.demo import dataset
from mes.demo.story_shell import load_shell_stories
from mes.identity.models import Citizen
from mes.preferences.actions import shortcuts_of
from mes.preferences.models import Shortcut


def _citizen(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


def test_louise_and_leo_have_their_shortcuts(db):
    dataset.load(date(2026, 11, 24))
    assert load_shell_stories() == {"raccourcis de l'accueil": 6}
    assert load_shell_stories() == {}
    assert shortcuts_of(_citizen("louise"))[0] is Shortcut.MEASURES
    assert shortcuts_of(_citizen("leo")) == [Shortcut.VACCINATIONS, Shortcut.MEASURES]
