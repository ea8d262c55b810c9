"""``infra-monitor secrets genkey|encrypt|rotate|status``: keys for secrets at rest (docs/secrets.md).

``genkey`` prints a new Fernet key (or adds it first in a key file), ``encrypt`` turns a value read from
standard input into ``enc:v1:…`` for the configuration file, ``rotate`` stores every secret column under the
first configured key in one transaction, ``status`` counts plaintext, encrypted and undecryptable values.
No command prints a stored secret or a key other than the one ``genkey`` creates.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from infra_monitor.cli.common import EXIT_FAILED, EXIT_USAGE, ConfigOpt, engine_for, fail, load, t
from inventory import secretbox

secrets_app = typer.Typer(help="Encryption of stored secrets: keys, encrypted values, rotation, status.",
                          no_args_is_help=True)

SECRET_COLUMNS_REVISION = "0003"  # the migration that widened the secret columns


def _keyring() -> secretbox.Keyring:
    """The keyring :func:`load` installed from the settings and the environment; exit 2 when there is none."""
    keyring = secretbox.current()
    if keyring is None:
        fail(t("cli_no_secret_key", env=secretbox.ENV_KEY), EXIT_USAGE)
    return keyring


@contextmanager
def _database_errors() -> Iterator[None]:
    """A missing schema or an unreachable database as one line and exit 1."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        fail(t("cli_db_error", error=str(exc.orig).strip().splitlines()[0]))


def _add_key_to(path: Path, key: str) -> None:
    """Write ``key`` as the first line of ``path`` (created 0600), keeping the keys already there."""
    old = ""
    if path.exists():
        try:
            secretbox.check_key_file_mode(path)
            old = path.read_text(encoding="ascii")
        except (secretbox.SecretKeyError, OSError, UnicodeError) as exc:
            fail(f"{exc}; " + t("cli_nothing_written"), EXIT_USAGE)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n" + old)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _schema_ready(engine: Engine) -> None:
    """Exit 1 unless the schema has the wide secret columns (migration 0003 or later)."""
    from alembic.script import ScriptDirectory

    from infra_monitor.db import alembic_config, current_revision

    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config(engine))
    done = {r.revision for r in script.iterate_revisions(current, "base")} if current else set()
    if SECRET_COLUMNS_REVISION not in done:
        fail(t("cli_secrets_schema", current=current or t("cli_schema_empty"), revision=SECRET_COLUMNS_REVISION))


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")

    @secrets_app.command("genkey")
    def genkey(
        config: ConfigOpt = None,  # accepted like everywhere; a new key needs no configuration
        add_to: Annotated[Path | None, typer.Option(
            "--add-to", help="put the new key first in this key file (created mode 0600), keeping the others",
            show_default=False)] = None,
    ) -> None:
        """Print a new key; with --add-to, make it the first (encrypting) key of a key file instead."""
        key = secretbox.generate_key()
        if add_to is None:
            typer.echo(key)
            return
        _add_key_to(add_to, key)
        typer.echo(t("cli_key_added", file=add_to), err=True)

    @secrets_app.command("encrypt")
    def encrypt(config: ConfigOpt = None) -> None:
        """Read a value from standard input and print it as enc:v1:… for the configuration file.

        An enc:v1:… value read is re-encrypted with the first key (after a rotation)."""
        load(config, log=False)
        keyring = _keyring()
        if sys.stdin.isatty():
            value = str(typer.prompt(t("cli_value"), hide_input=True, confirmation_prompt=True))
        else:
            value = sys.stdin.read().rstrip("\r\n")
        if not value:
            fail(t("cli_nothing_to_encrypt"), EXIT_USAGE)
        if secretbox.is_encrypted(value):
            try:
                value = keyring.decrypt(value)
            except secretbox.SecretDecryptError as exc:
                fail(t("cli_cannot_reencrypt", error=exc), EXIT_FAILED)
        typer.echo(keyring.encrypt(value))

    @secrets_app.command("rotate")
    def rotate(
        config: ConfigOpt = None,
        decrypt: Annotated[bool, typer.Option(
            "--decrypt", help="store every secret as plaintext instead (before removing all keys)")] = False,
    ) -> None:
        """Re-encrypt every stored secret with the first key (plaintext ones too), in one transaction."""
        from infra_monitor.db import import_all_models, writing

        settings = load(config, log=False)
        keyring = _keyring()
        engine = engine_for(settings)
        try:
            with _database_errors():
                _schema_ready(engine)
                report = secretbox.rotate(writing(engine), import_all_models().metadata, keyring, decrypt=decrypt)
        except secretbox.SecretDecryptError as exc:
            fail(str(exc), EXIT_FAILED)
        if decrypt:
            typer.echo(t("cli_decrypted", done=report.decrypted, unchanged=report.unchanged, empty=report.empty))
        else:
            typer.echo(t("cli_rotated", encrypted=report.encrypted, reencrypted=report.reencrypted,
                         unchanged=report.unchanged, empty=report.empty))

    @secrets_app.command("status")
    def status(
        config: ConfigOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
    ) -> None:
        """How many stored secrets are plaintext, encrypted (current or older key) or undecryptable."""
        from infra_monitor.db import import_all_models

        settings = load(config, log=False)
        keyring = secretbox.current()
        engine = engine_for(settings)
        with _database_errors():
            found = secretbox.census(engine, import_all_models().metadata, keyring)
        if as_json:
            typer.echo(json.dumps({"keys": len(keyring.keys) if keyring else 0,
                                   "key_source": keyring.source if keyring else None,
                                   "columns": found.counts, "undecryptable": found.undecryptable}))
        else:
            typer.echo(t("cli_keys", keys=t("cli_keys_from", n=len(keyring.keys), source=keyring.source)
                         if keyring else t("cli_keys_none")))
            states = (t("cli_sec_empty"), t("cli_sec_plaintext"), t("cli_sec_current"), t("cli_sec_older"),
                      t("cli_sec_undecryptable"))  # = secretbox.STATES
            typer.echo(f"{t('cli_sec_column'):<28}" + "".join(f"{s:>15}" for s in states))
            for name, counts in found.counts.items():
                typer.echo(f"{name:<28}" + "".join(f"{counts[s]:>15}" for s in secretbox.STATES))
            for where in found.undecryptable:
                typer.echo(t("cli_cannot_decrypt", where=where), err=True)
        if found.undecryptable:
            raise typer.Exit(EXIT_FAILED)
