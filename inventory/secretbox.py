"""Secrets at rest: the Fernet keyring, ``enc:v1:`` values and the encrypted column type.

Keys are Fernet keys (``infra-monitor secrets genkey``), given comma-separated in ``INFRA_MONITOR_SECRET_KEY``
or one per line in the file named by ``[security] key_file`` (which must be readable by its owner only, like
an ssh private key). The environment variable, when set, wins over the file. Several keys allow rotation:
the first encrypts, every key decrypts (:class:`cryptography.fernet.MultiFernet`).

An encrypted value is written ``enc:v1:<fernet token>``, in the database (columns typed :class:`SecretString`)
and in the configuration file alike. With no key configured values are stored as plaintext, as before.

The process-wide keyring is installed from the settings at startup (:func:`install_for`, called by the CLI and
by the web application) and falls back to ``INFRA_MONITOR_SECRET_KEY``, so models read the same way in every
process. A stored value that cannot be decrypted is read as an :class:`Undecryptable` (never an exception, so
one bad row cannot break a query over many); the code that needs the plaintext asks :func:`undecryptable`
and reports the table, column and row. No message of this module ever contains a key or a plaintext.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

PREFIX = "enc:v1:"
ENV_KEY = "INFRA_MONITOR_SECRET_KEY"
STORED_LENGTH = 1024  # column width: a 128-character plaintext (up to 512 UTF-8 bytes) encrypts to < 800
KEY_HELP = "a Fernet key: 44 URL-safe base64 characters, as printed by 'infra-monitor secrets genkey'"


class SecretKeyError(Exception):
    """The key configuration is unusable (bad key, unreadable or unprotected key file); says where."""


class SecretDecryptError(Exception):
    """A value cannot be decrypted with the configured keys; the message says which value, never its content."""


@dataclass(frozen=True)
class Keyring:
    """The configured keys, newest (the one that encrypts) first, and where they came from."""

    keys: tuple[Fernet, ...]
    source: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretKeyError(f"{self.source}: no key")

    @property
    def _multi(self) -> MultiFernet:
        return MultiFernet(list(self.keys))

    def encrypt(self, plaintext: str) -> str:
        """``enc:v1:<token>`` of ``plaintext`` under the first key."""
        return PREFIX + self.keys[0].encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str) -> str:
        """The plaintext of an ``enc:v1:`` value; :class:`SecretDecryptError` when no key opens it."""
        if not is_encrypted(value):
            raise SecretDecryptError("not an encrypted value (it does not start with 'enc:v1:')")
        try:
            return self._multi.decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptError(f"encrypted with a key that is not among the {len(self.keys)} key(s) of "
                                     f"{self.source}, or damaged") from None

    def is_current(self, value: str) -> bool:
        """Whether ``value`` is encrypted with the first key (nothing for a rotation to do)."""
        if not is_encrypted(value):
            return False
        try:
            self.keys[0].decrypt(value[len(PREFIX):].encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str, source: str, *, separators: str = ",\n") -> Keyring:
    """A keyring from keys separated by ``separators``; blank entries and ``#`` comment lines are ignored."""
    entries = [text]
    for sep in separators:
        entries = [part for entry in entries for part in entry.split(sep)]
    keys: list[Fernet] = []
    for raw in entries:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            keys.append(Fernet(entry.encode("ascii")))
        except (ValueError, UnicodeError):
            raise SecretKeyError(f"{source}: key {len(keys) + 1} is not {KEY_HELP}") from None
    if not keys:
        raise SecretKeyError(f"{source}: no key found (expected {KEY_HELP})")
    return Keyring(tuple(keys), source)


def check_key_file_mode(path: Path) -> None:
    """Refuse a key file that its group or others may read or write (like ssh with a private key)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SecretKeyError(f"key file {path}: not found") from None
    except OSError as exc:
        raise SecretKeyError(f"key file {path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretKeyError(f"key file {path}: not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise SecretKeyError(f"key file {path}: permissions {mode:04o} are too open; the keys must be readable "
                             f"by their owner only: run 'chmod 600 {path}'")


def read_key_file(path: str | os.PathLike[str]) -> Keyring:
    p = Path(path)
    check_key_file_mode(p)
    try:
        text = p.read_text(encoding="ascii")
    except UnicodeError:
        raise SecretKeyError(f"key file {p}: not text; expected one key per line ({KEY_HELP})") from None
    except OSError as exc:
        raise SecretKeyError(f"key file {p}: cannot read: {exc.strerror}") from None
    return parse_keys(text, f"key file {p}", separators="\n")


def load_keyring(key_file: str = "", environ: Mapping[str, str] | None = None) -> Keyring | None:
    """The configured keyring: ``INFRA_MONITOR_SECRET_KEY`` if set, else ``key_file`` if set, else None."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_KEY, "").strip()
    if value:
        return parse_keys(value, f"environment variable {ENV_KEY}")
    if key_file:
        return read_key_file(key_file)
    return None


# --- the process-wide keyring -------------------------------------------------------------------------

_installed: Keyring | None = None
_from_env: tuple[str, Keyring | None] = ("", None)


def install(keyring: Keyring | None) -> None:
    """Make ``keyring`` the one the models use; None falls back to ``INFRA_MONITOR_SECRET_KEY``."""
    global _installed
    _installed = keyring


def install_for(settings: Any) -> Keyring | None:
    """Install the keyring the settings (``settings.security.key_file``) and the environment give."""
    keyring = load_keyring(settings.security.key_file)
    install(keyring)
    return keyring


def current() -> Keyring | None:
    """The installed keyring, else the one of ``INFRA_MONITOR_SECRET_KEY`` (parsed once per value), else None."""
    global _from_env
    if _installed is not None:
        return _installed
    value = os.environ.get(ENV_KEY, "").strip()
    if not value:
        return None
    if _from_env[0] != value:
        _from_env = (value, parse_keys(value, f"environment variable {ENV_KEY}"))
    return _from_env[1]


# --- values read from the database --------------------------------------------------------------------

class Undecryptable(str):
    """A stored ``enc:v1:`` value that no configured key opens. Its text is the stored ciphertext (never a
    plaintext), so writing the row back leaves the column as it was; :attr:`reason` says why."""

    reason: str

    def __new__(cls, stored: str, reason: str) -> Undecryptable:
        obj = super().__new__(cls, stored)
        obj.reason = reason
        return obj


def reveal(value: str) -> str:
    """The plaintext of a stored value (plaintext as is); :class:`SecretDecryptError` when none can be had."""
    if not is_encrypted(value):
        return value
    keyring = current()
    if keyring is None:
        raise SecretDecryptError(f"encrypted, but no secret key is configured (set {ENV_KEY} or "
                                 "[security] key_file)")
    return keyring.decrypt(value)


def seal(value: str) -> str:
    """What to store for ``value``: its ciphertext when a key is configured, else the plaintext."""
    if isinstance(value, Undecryptable):
        return str.__str__(value)  # unchanged ciphertext
    keyring = current()
    if keyring is None or value == "":
        return value
    return keyring.encrypt(value)


class SecretString(TypeDecorator[str]):
    """A text column stored encrypted (``enc:v1:…``) when a key is configured.

    ``length`` is the longest plaintext the writers accept (the validation reads it); the column itself is
    :data:`STORED_LENGTH` wide so that the ciphertext fits. Empty strings stay empty (no secret set).
    """

    impl = String(STORED_LENGTH)
    cache_ok = True

    def __init__(self, length: int = 128) -> None:
        super().__init__()
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        try:
            return reveal(value)
        except SecretDecryptError as exc:
            return Undecryptable(value, str(exc))


def secret_columns(model: Any) -> tuple[str, ...]:
    """Names of the columns of ``model`` (a mapped class or a Table) typed :class:`SecretString`."""
    table = getattr(model, "__table__", model)
    return tuple(c.name for c in table.columns if isinstance(c.type, SecretString))


def undecryptable(obj: Any, columns: Iterable[str] | None = None) -> list[str]:
    """One message per secret of ``obj`` that cannot be decrypted, naming table, column and row."""
    table = getattr(obj, "__tablename__", type(obj).__name__)
    names = secret_columns(type(obj)) if columns is None else tuple(columns)
    row = f"id={getattr(obj, 'id', None)}"
    name = getattr(obj, "name", None)
    if name:
        row += f" ({name!r})"
    return [f"{table}.{col} of row {row} cannot be decrypted: {value.reason}"
            for col in names if isinstance(value := getattr(obj, col, None), Undecryptable)]


def require_readable(obj: Any) -> None:
    """:class:`SecretDecryptError` naming every secret of ``obj`` that cannot be decrypted."""
    problems = undecryptable(obj)
    if problems:
        raise SecretDecryptError("; ".join(problems))


# --- the stored secrets of a database: census and rotation ---------------------------------------------

STATES = ("empty", "plaintext", "current", "older", "undecryptable")  # current = under the first key


@dataclass
class Census:
    """How the stored secrets stand, per ``table.column`` and state (never a value)."""

    counts: dict[str, dict[str, int]]
    undecryptable: list[str]  # "table.column of row id=N"

    def total(self, state: str) -> int:
        return sum(c[state] for c in self.counts.values())


def _state(value: str | None, keyring: Keyring | None) -> str:
    if not value:
        return "empty"
    if not is_encrypted(value):
        return "plaintext"
    if keyring is None:
        return "undecryptable"
    if keyring.is_current(value):
        return "current"
    try:
        keyring.decrypt(value)
    except SecretDecryptError:
        return "undecryptable"
    return "older"


def _secret_tables(metadata: Any) -> list[tuple[Any, tuple[str, ...]]]:
    """(raw table, secret column names) of every table with :class:`SecretString` columns; raw = no decoding."""
    from sqlalchemy import column, table

    out = []
    for t in metadata.sorted_tables:
        names = secret_columns(t)
        if names:
            out.append((table(t.name, column("id"), *(column(n, String()) for n in names)), names))
    return out


def _scan(conn: Any, metadata: Any, keyring: Keyring | None,
          for_update: bool = False) -> tuple[Census, list[tuple[Any, str, Any, str, str]]]:
    """The census and every non-empty stored value as (raw table, column, row id, value, state)."""
    from sqlalchemy import select

    census = Census({}, [])
    values: list[tuple[Any, str, Any, str, str]] = []
    for raw, names in _secret_tables(metadata):
        q = select(raw.c.id, *(raw.c[n] for n in names)).order_by(raw.c.id)
        rows = conn.execute(q.with_for_update() if for_update else q).all()
        for n in names:
            census.counts[f"{raw.name}.{n}"] = dict.fromkeys(STATES, 0)
        for row in rows:
            for n in names:
                value = row._mapping[n]
                state = _state(value, keyring)
                census.counts[f"{raw.name}.{n}"][state] += 1
                if state == "undecryptable":
                    census.undecryptable.append(f"{raw.name}.{n} of row id={row.id}")
                if state != "empty":
                    values.append((raw, n, row.id, value, state))
    return census, values


def census(engine: Any, metadata: Any, keyring: Keyring | None) -> Census:
    with engine.connect() as conn:
        return _scan(conn, metadata, keyring)[0]


@dataclass
class RotationReport:
    encrypted: int = 0      # plaintext now encrypted with the first key
    reencrypted: int = 0    # from an older key to the first key
    decrypted: int = 0      # stored as plaintext (--decrypt)
    unchanged: int = 0      # already as wanted
    empty: int = 0


def rotate(engine: Any, metadata: Any, keyring: Keyring, *, decrypt: bool = False) -> RotationReport:
    """Store every secret under the first key (or as plaintext with ``decrypt``), in one transaction.

    Nothing is written when any value cannot be decrypted: :class:`SecretDecryptError` names them all.
    ``engine`` is a writer's (``infra_monitor.db.writing``: on SQLite the transaction takes the lock at BEGIN).
    """
    from sqlalchemy import update

    report = RotationReport()
    with engine.begin() as conn:
        found, values = _scan(conn, metadata, keyring, for_update=True)
        if found.undecryptable:
            shown = found.undecryptable[:20]
            more = len(found.undecryptable) - len(shown)
            raise SecretDecryptError(
                f"{len(found.undecryptable)} stored secret(s) cannot be decrypted with the {len(keyring.keys)} "
                f"key(s) of {keyring.source}: {', '.join(shown)}{f' and {more} more' if more else ''}; "
                "nothing was changed (add the key they were encrypted with, or enter these secrets again)")
        report.empty = found.total("empty")
        for raw, name, row_id, value, state in values:
            if decrypt:
                if state == "plaintext":
                    report.unchanged += 1
                    continue
                new, report.decrypted = keyring.decrypt(value), report.decrypted + 1
            elif state == "current":
                report.unchanged += 1
                continue
            elif state == "plaintext":
                new, report.encrypted = keyring.encrypt(value), report.encrypted + 1
            else:
                new, report.reencrypted = keyring.encrypt(keyring.decrypt(value)), report.reencrypted + 1
            conn.execute(update(raw).where(raw.c.id == row_id).values({name: new}))
    return report
