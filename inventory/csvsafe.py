"""Spreadsheet-safe CSV cells (OWASP CSV injection), the one rule every CSV the program writes follows.

A text cell starting with = + - @ TAB or CR would be run as a formula by Excel or LibreOffice; it is written
with a leading apostrophe, which spreadsheets show as text. Reading a CSV the program wrote strips that
apostrophe again (only before those characters), so an export imports back unchanged.
"""

from __future__ import annotations

INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_injectable(text: str) -> bool:
    """Would a spreadsheet read this text as a formula?"""
    return text.startswith(INJECTION_PREFIXES)


def neutralise(text: str) -> str:
    """``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``; other texts unchanged."""
    return "'" + text if is_injectable(text) else text


def restore(text: str) -> str:
    """The inverse of :func:`neutralise` for a cell read back from a CSV file."""
    return text[1:] if text.startswith("'") and is_injectable(text[1:]) else text
