"""The habitudes de vie question catalogue: versioned data (data/lifestyle.json), not code.

portal.md §2.12: sections, questions, answer choices with their stored codes, and conditional
questions shown only after a given answer to another question (`display_on`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mes.lib.errors import InvalidInput

CATALOGUE_PATH = Path(__file__).parent / "data" / "lifestyle.json"
RADIO, INTEGER = "RADIO", "INTEGER"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    name: str
    section: str
    label: str
    label_other: str  # third person, with {prenom}
    help: str
    type: str
    options: tuple[Option, ...]
    display_on_question: str  # "" when always shown
    display_on_values: tuple[str, ...]
    max_length: int
    low: int
    high: int
    integer_message: str
    range_message: str

    def label_for(self, first_name: str | None) -> str:
        """First person for one's own profile, third person (« Léo fume ») for another."""
        if first_name is None:
            return self.label
        return self.label_other.replace("{prenom}", first_name)

    def option_label(self, value: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        return value

    def shown(self, answers: dict[str, str]) -> bool:
        """Is this question asked, given the other answers of the section?"""
        if not self.display_on_question:
            return True
        return answers.get(self.display_on_question, "") in self.display_on_values

    def check(self, raw: str) -> str:
        """The stored value for this answer, or InvalidInput with the catalogue's message."""
        raw = raw.strip()
        if self.type == RADIO:
            if raw not in {o.value for o in self.options}:
                raise InvalidInput("Choisissez une des réponses proposées.", field=self.name)
            return raw
        if not raw.isdigit() or len(raw) > self.max_length:
            message = self.integer_message if not raw.isdigit() else self.range_message
            raise InvalidInput(message, field=self.name)
        if not self.low <= int(raw) <= self.high:
            raise InvalidInput(self.range_message, field=self.name)
        return str(int(raw))


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    prompt: str
    prompt_other: str
    questions: tuple[Question, ...]

    def prompt_for(self, first_name: str | None) -> str:
        if first_name is None:
            return self.prompt
        return self.prompt_other.replace("{prenom}", first_name)


@dataclass(frozen=True)
class Catalogue:
    version: str
    sections: tuple[Section, ...]

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def question(self, name: str) -> Question:
        for section in self.sections:
            for question in section.questions:
                if question.name == name:
                    return question
        raise KeyError(name)


def _question(section: str, raw: dict[str, object]) -> Question:
    display_on = raw.get("display_on") or {}
    assert isinstance(display_on, dict)
    messages = raw.get("messages") or {}
    assert isinstance(messages, dict)
    bounds = raw.get("range") or [0, 0]
    assert isinstance(bounds, list)
    options = raw.get("options") or []
    assert isinstance(options, list)
    return Question(
        name=str(raw["name"]),
        section=section,
        label=str(raw["label"]),
        label_other=str(raw.get("label_other") or raw["label"]),
        help=str(raw.get("help", "")),
        type=str(raw["type"]),
        options=tuple(Option(str(o["value"]), str(o["label"])) for o in options),
        display_on_question=str(display_on.get("question", "")),
        display_on_values=tuple(str(v) for v in display_on.get("values", [])),
        max_length=int(str(raw.get("max_length", 0))),
        low=int(bounds[0]),
        high=int(bounds[1]),
        integer_message=str(messages.get("integer", "")),
        range_message=str(messages.get("range", "")),
    )


@cache
def catalogue() -> Catalogue:
    """The current catalogue, read once per process."""
    data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    sections = tuple(
        Section(
            name=s["name"],
            label=s["label"],
            prompt=s["prompt"],
            prompt_other=s["prompt_other"],
            questions=tuple(_question(s["name"], q) for q in s["questions"]),
        )
        for s in data["sections"]
    )
    return Catalogue(version=data["version"], sections=sections)
