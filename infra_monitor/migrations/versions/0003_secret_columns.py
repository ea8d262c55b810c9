"""secret columns: widen the SNMP secrets so that their ciphertext fits

``snmp_profile.community``, ``auth_key`` and ``priv_key`` go from VARCHAR(128) to VARCHAR(1024): with a secret
key configured they hold ``enc:v1:<fernet token>`` (docs/secrets.md). Writers still accept at most 128
characters of plaintext. No value changes.

PostgreSQL widens a VARCHAR in place. SQLite does not enforce VARCHAR lengths, and rebuilding the table (alembic's
batch mode) is impossible once devices reference a profile (``ON DELETE RESTRICT`` refuses the DROP inside
the migration's transaction), so on SQLite only the declared type in the stored schema is rewritten, the way
SQLite documents for changes that leave the stored rows as they are (writable_schema, schema_version + 1).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:00:00
"""
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'snmp_profile'
COLUMNS = ('community', 'auth_key', 'priv_key')
PLAIN, WIDE = 128, 1024


def _sqlite_retype(old: int, new: int) -> bool:
    """Rewrite the declared VARCHAR(old) of COLUMNS to VARCHAR(new); False when the schema is not as expected."""
    conn = op.get_bind()
    ddl = conn.exec_driver_sql(
        f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'").scalar_one()
    for column in COLUMNS:
        pattern = re.compile(rf'(^|,)(\s*"?{column}"?\s+)VARCHAR\({old}\)', re.IGNORECASE | re.MULTILINE)
        ddl, found = pattern.subn(rf'\g<1>\g<2>VARCHAR({new})', ddl)
        if found != 1:
            return False
    version = int(conn.exec_driver_sql('PRAGMA schema_version').scalar_one())
    conn.exec_driver_sql('PRAGMA writable_schema = ON')
    try:
        conn.execute(sa.text("UPDATE sqlite_master SET sql = :ddl WHERE type = 'table' AND name = :name"),
                     {'ddl': ddl, 'name': TABLE})
        conn.exec_driver_sql(f'PRAGMA schema_version = {version + 1}')
    finally:
        conn.exec_driver_sql('PRAGMA writable_schema = OFF')
    return True


def _retype(old: int, new: int) -> None:
    if op.get_bind().dialect.name == 'sqlite' and _sqlite_retype(old, new):
        return
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new),
                                  existing_nullable=False)


def upgrade() -> None:
    _retype(PLAIN, WIDE)


def downgrade() -> None:
    """Narrow the columns again; refused while a value is encrypted (older programs would use the ciphertext
    as the secret, and it may not fit)."""
    conn = op.get_bind()
    for column in COLUMNS:
        sealed = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE {column} LIKE 'enc:v1:%' "
                                      f"OR length({column}) > {PLAIN}")).scalar_one()
        if sealed:
            raise RuntimeError(
                f'{TABLE}.{column}: {sealed} value(s) are encrypted or longer than {PLAIN} characters; store the '
                "secrets as plaintext first with 'infra-monitor secrets rotate --decrypt', then downgrade")
    _retype(WIDE, PLAIN)
