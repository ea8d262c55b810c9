"""Translations of the operator pages and the command line: gettext catalogues read with Babel, merged
per language.

Catalogues live in ``infra_monitor/locale/<lang>/LC_MESSAGES/<domain>.po`` (Vietnamese first, English);
the pages (``web``) and the CLI share them, so a state or a cause reads the same everywhere. Every domain
file of a language is merged into one table, so each part of the UI keeps its own file (``messages.po``
for navigation, states and pages; ``problems.po``, ``live.po``, … beside it). Keys (``msgid``) are short
identifiers; ``msgstr`` is the text. ``t(key, **params)`` fills ``{params}``; a plural entry
(``msgid_plural``) picks its form from ``n`` with the catalogue's own ``Plural-Forms`` rule (Vietnamese has
one form, English two), and a number ``n`` is written in the language's format (``1.234`` / ``1,234``).

Vietnamese is the default (``general.language``); a page asks for ``?lang=en`` and the choice is remembered
in the ``lang`` cookie. A key missing from a language falls back to English, then to the key itself;
:func:`missing_keys`, :func:`duplicate_keys` and :func:`empty_keys` let a test prove the catalogues complete.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("vi", "en")
COOKIE = "lang"
LOCALE_DIR = Path(__file__).with_name("locale")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Entry:
    """One message: its forms (one, or one per plural form) and the domain file it came from."""

    forms: tuple[str, ...]
    domain: str
    plural: bool


@dataclass
class Catalogue:
    """Every domain of one language merged: key → entry, and the language's plural rule."""

    lang: str
    entries: dict[str, Entry] = field(default_factory=dict)
    plural_index: Callable[[int], int] = lambda n: 0
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (key, first domain, second domain)


def load_catalogue(lang: str, directory: Path = LOCALE_DIR) -> Catalogue:
    """Read and merge ``directory/<lang>/LC_MESSAGES/*.po`` (domains in name order)."""
    catalogue = Catalogue(lang)
    for path in sorted((directory / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            po = read_po(fh, locale=lang, domain=path.stem)
        if po.plural_expr:
            catalogue.plural_index = gettext.c2py(po.plural_expr)
        for message in po:
            if not message.id:
                continue  # the header entry
            key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            raw = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
            forms = tuple(str(form or "") for form in raw)
            if key in catalogue.entries:
                catalogue.duplicates.append((key, catalogue.entries[key].domain, path.stem))
                continue
            catalogue.entries[key] = Entry(forms, path.stem, isinstance(message.id, (list, tuple)))
    return catalogue


@cache
def catalogues() -> dict[str, Catalogue]:
    return {lang: load_catalogue(lang) for lang in LANGUAGES}


def _count(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(abs(value))
    digits = _DIGITS.findall(str(value))
    return int("".join(digits)) if digits else 0


def _text(catalogue: Catalogue, entry: Entry, params: dict[str, object]) -> str:
    if not entry.plural or len(entry.forms) == 1:
        return entry.forms[0]
    index = catalogue.plural_index(_count(params.get("n", 0)))
    return entry.forms[min(index, len(entry.forms) - 1)]


PSEUDO_ENV = "INFRA_MONITOR_PSEUDO_I18N"
PSEUDO_OPEN, PSEUDO_CLOSE = "\u27e6", "\u27e7"


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **params)`` for ``lang``: the text with ``{params}`` filled in.

    For the tests only: with ``INFRA_MONITOR_PSEUDO_I18N=1`` in the environment every text comes out between
    ``⟦`` and ``⟧`` (pseudo-localisation), so that a test can find what was printed without a translation.
    """
    t = _translator(lang)
    if os.environ.get(PSEUDO_ENV) != "1":
        return t
    return lambda key, **params: f"{PSEUDO_OPEN}{t(key, **params)}{PSEUDO_CLOSE}"


def _translator(lang: str) -> Callable[..., str]:
    tables = catalogues()
    table = tables.get(lang, tables["vi"])
    english = tables["en"]
    lang = table.lang

    def t(key: str, **params: object) -> str:
        entry = table.entries.get(key)
        source = table
        if entry is None or not any(entry.forms):
            entry, source = english.entries.get(key), english
        if entry is None:
            return key
        text = _text(source, entry, params)
        if not params:
            return text
        if isinstance(params.get("n"), (int, float)) and not isinstance(params.get("n"), bool):
            from infra_monitor.readmodel.fmt import number  # Babel's number data: only when a count is shown

            params = {**params, "n": number(params["n"], lang)}  # type: ignore[arg-type]
        return text.format(**params)

    return t


def pick_language(query: str | None, cookie: str | None, default: str) -> str:
    """The page language: ``?lang=`` first, then the cookie, then the configured default."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return default if default in LANGUAGES else "vi"


def known_keys() -> set[str]:
    return set().union(*(c.entries for c in catalogues().values()))


def has_key(key: str) -> bool:
    return all(key in c.entries for c in catalogues().values())


def missing_keys() -> dict[str, set[str]]:
    """Keys present in one language and absent from another (empty when the catalogues are complete)."""
    every = known_keys()
    return {lang: every - set(c.entries) for lang, c in catalogues().items() if every - set(c.entries)}


def empty_keys() -> dict[str, set[str]]:
    """Keys whose text is empty in a language (an untranslated entry), except those meant to be empty."""
    out: dict[str, set[str]] = {}
    for lang, c in catalogues().items():
        empty = {k for k, e in c.entries.items() if not all(e.forms) and k not in INTENTIONALLY_EMPTY}
        if empty:
            out[lang] = empty
    return out


def duplicate_keys() -> list[tuple[str, str, str, str]]:
    """(language, key, first domain, second domain) for every key defined in two domain files."""
    return [(lang, *d) for lang, c in catalogues().items() for d in c.duplicates]


INTENTIONALLY_EMPTY = frozenset({"cause_none"})
