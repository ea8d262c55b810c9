"""services: hosted services as inventory (NetBox's ipam.Service), moved out of device custom fields

Creates the ``service`` table and moves every device's custom fields ``tcp_ports`` (list of ports) and
``http_urls`` (list of http(s) URLs) into services: one ``tcp`` service with the valid ports, one ``http``
service per valid URL, named after what they check ("TCP 22/443", "HTTPS portal.example.vn/path"), owned by
the tenant of the device's site. Valid entries leave the custom field; invalid ones (a port out of range, a
word, an ftp:// URL, a value that is not a list) stay in it, so nothing is lost, and each is reported in the
migration log as ``event=migration_0006_kept``. Entries are read the way target loading read them before
(ports as numbers or digit strings, duplicates dropped).

Downgrade puts tcp ports and http URLs back into the custom fields and drops the table; it is refused while
a dns service exists (the custom fields have no place for it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:30:00
"""
import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger('infra_monitor.migrations')
NAME_MAX = 100

_device = sa.table('device', sa.column('id', sa.Integer()), sa.column('name', sa.String()),
                   sa.column('site_id', sa.Integer()), sa.column('custom_fields', sa.JSON()))
_site = sa.table('site', sa.column('id', sa.Integer()), sa.column('tenant_id', sa.Integer()))
_service = sa.table(
    'service', sa.column('id', sa.Integer()), sa.column('created', sa.DateTime(timezone=True)),
    sa.column('last_updated', sa.DateTime(timezone=True)), sa.column('description', sa.String()),
    sa.column('tags', sa.JSON()), sa.column('custom_fields', sa.JSON()), sa.column('device_id', sa.Integer()),
    sa.column('name', sa.String()), sa.column('kind', sa.String()), sa.column('protocol', sa.String()),
    sa.column('ports', sa.JSON()), sa.column('http_url', sa.String()), sa.column('expected_status', sa.JSON()),
    sa.column('expected_content', sa.String()), sa.column('dns_name', sa.String()),
    sa.column('dns_record_type', sa.String()), sa.column('dns_expected', sa.JSON()),
    sa.column('tls_expiry_warning_days', sa.Integer()), sa.column('tenant_id', sa.Integer()),
    sa.column('criticality', sa.String()), sa.column('counts_toward', sa.String()),
    sa.column('status', sa.String()), sa.column('monitoring_enabled', sa.Boolean()),
    sa.column('search_text', sa.String()))


def upgrade() -> None:
    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', AutoString(length=500), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('custom_fields', sa.JSON(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('name', AutoString(length=100), nullable=False),
    sa.Column('kind', AutoString(length=20), nullable=False),
    sa.Column('protocol', AutoString(length=10), nullable=False),
    sa.Column('ports', sa.JSON(), nullable=False),
    sa.Column('http_url', AutoString(length=2000), nullable=False),
    sa.Column('expected_status', sa.JSON(), nullable=False),
    sa.Column('expected_content', AutoString(length=1000), nullable=False),
    sa.Column('dns_name', AutoString(length=255), nullable=False),
    sa.Column('dns_record_type', AutoString(length=10), nullable=False),
    sa.Column('dns_expected', sa.JSON(), nullable=False),
    sa.Column('tls_expiry_warning_days', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('criticality', AutoString(length=20), nullable=False),
    sa.Column('counts_toward', AutoString(length=50), nullable=True),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('monitoring_enabled', sa.Boolean(), nullable=False),
    sa.Column('search_text', AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_id', 'name', name='uq_service_device_name')
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_tenant_id'), ['tenant_id'], unique=False)
    _move_custom_fields()


def downgrade() -> None:
    conn = op.get_bind()
    dns = conn.execute(sa.select(sa.func.count()).select_from(_service).where(_service.c.kind == 'dns')).scalar_one()
    if dns:
        raise RuntimeError(f'service: {dns} dns service(s) have no place in device custom fields; delete them '
                           'or export the inventory first, then downgrade')
    _restore_custom_fields()
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_service_status'))
        batch_op.drop_index(batch_op.f('ix_service_kind'))
        batch_op.drop_index(batch_op.f('ix_service_device_id'))
    op.drop_table('service')


# --- data migration -------------------------------------------------------------------------------------

def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        port = value
    elif isinstance(value, str) and value.strip().isdigit():
        port = int(value)
    else:
        return None
    return port if 1 <= port <= 65535 else None


def _url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value.strip()) > 2000:
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme not in ('http', 'https') or not parts.hostname or any(c.isspace() for c in url):
        return None
    return url


def _split(value: Any, parse: Any) -> tuple[list[Any], list[Any]]:
    """(valid entries without duplicates, entries kept) of one custom field value."""
    if not isinstance(value, list):
        return [], [value]
    good: list[Any] = []
    bad: list[Any] = []
    for item in value:
        parsed = parse(item)
        if parsed is None:
            bad.append(item)
        elif parsed not in good:
            good.append(parsed)
    return good, bad


def _fold(text: str) -> str:
    """``inventory.search.fold`` (ASCII, lowercase, words), copied: migrations import nothing of ours."""
    decomposed = unicodedata.normalize('NFD', text.replace('đ', 'd').replace('Đ', 'D'))
    ascii_only = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r'[^0-9a-z]+', ' ', ascii_only.lower()).strip()[:1000]


def _unique(name: str, taken: set[str]) -> str:
    name = name[:NAME_MAX]
    candidate, n = name, 2
    while candidate in taken:
        suffix = f' ({n})'
        candidate, n = name[:NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _http_name(url: str) -> str:
    parts = urlsplit(url)
    return f'{parts.scheme.upper()} {parts.netloc}{parts.path.rstrip("/")}'


def _tcp_name(ports: list[int]) -> str:
    name = 'TCP ' + '/'.join(str(p) for p in ports)
    return name if len(name) <= NAME_MAX else 'TCP ports'


def _now(conn: Any) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if conn.dialect.name == 'sqlite' else now


def _service_row(now: datetime, device_id: int, tenant_id: int | None, name: str, kind: str,
                 ports: list[int], url: str) -> dict[str, Any]:
    return {'created': now, 'last_updated': now, 'description': '', 'tags': [], 'custom_fields': {},
            'device_id': device_id, 'name': name, 'kind': kind, 'protocol': 'tcp', 'ports': ports, 'http_url': url,
            'expected_status': [], 'expected_content': '', 'dns_name': '', 'dns_record_type': 'A',
            'dns_expected': [], 'tls_expiry_warning_days': 14, 'tenant_id': tenant_id, 'criticality': 'medium',
            'counts_toward': None, 'status': 'active', 'monitoring_enabled': True,
            'search_text': _fold(f'{name} {url}')}


def _move_custom_fields() -> None:
    conn = op.get_bind()
    tenants = dict(conn.execute(sa.select(_site.c.id, _site.c.tenant_id)).all())
    now = _now(conn)
    moved = kept = 0
    rows = conn.execute(sa.select(_device.c.id, _device.c.name, _device.c.site_id, _device.c.custom_fields)
                        .order_by(_device.c.id)).all()
    for device_id, device_name, site_id, cf in rows:
        if not isinstance(cf, dict) or not ({'tcp_ports', 'http_urls'} & cf.keys()):
            continue
        cf = dict(cf)
        services: list[dict[str, Any]] = []
        taken: set[str] = set()
        for key, parse in (('tcp_ports', _port), ('http_urls', _url)):
            if key not in cf:
                continue
            good, bad = _split(cf[key], parse)
            if key == 'tcp_ports' and good:
                services.append(_service_row(now, device_id, tenants.get(site_id), _unique(_tcp_name(good), taken),
                                             'tcp', good, ''))
            for url in good if key == 'http_urls' else []:
                services.append(_service_row(now, device_id, tenants.get(site_id), _unique(_http_name(url), taken),
                                             'http', [], url))
            for item in bad:
                log.warning('event=migration_0006_kept device_id=%d device=%r field=%s value=%r reason=%s',
                            device_id, device_name, key, item,
                            'not a list' if not isinstance(cf[key], list) else
                            ('not a port 1..65535' if key == 'tcp_ports' else 'not an http(s) URL'))
            kept += len(bad)
            if not bad:
                del cf[key]
            elif isinstance(cf[key], list):
                cf[key] = bad
        if services:
            conn.execute(sa.insert(_service), services)
            moved += len(services)
        conn.execute(sa.update(_device).where(_device.c.id == device_id).values(custom_fields=cf))
    log.info('event=migration_0006 services_created=%d entries_kept=%d', moved, kept)


def _restore_custom_fields() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_service.c.device_id, _service.c.kind, _service.c.ports, _service.c.http_url)
                        .order_by(_service.c.id)).all()
    if not rows:
        return
    back: dict[int, dict[str, list[Any]]] = {}
    for device_id, kind, ports, url in rows:
        fields = back.setdefault(device_id, {})
        if kind == 'tcp':
            fields.setdefault('tcp_ports', []).extend(p for p in ports or [] if p not in fields['tcp_ports'])
        elif kind == 'http' and url:
            fields.setdefault('http_urls', []).append(url)
    devices = dict(conn.execute(sa.select(_device.c.id, _device.c.custom_fields)
                                .where(_device.c.id.in_(list(back)))).all())
    for device_id, fields in back.items():
        cf = dict(devices.get(device_id) or {})
        for key, values in fields.items():
            old = cf.get(key)
            old_list = old if isinstance(old, list) else ([] if old is None else [old])
            cf[key] = [*values, *(v for v in old_list if v not in values)]
        conn.execute(sa.update(_device).where(_device.c.id == device_id).values(custom_fields=cf))
