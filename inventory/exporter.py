"""Export of the whole inventory as an import document (docs/inventory-format.md).

:func:`export_document` reads each table once and writes rows in natural-key order, so exporting, importing
into an empty database and exporting again gives the same document. SNMP secrets (``secret_fields``) are
left out unless ``include_secrets``; a row without them leaves stored secrets unchanged when imported.

:func:`write_export` writes it so that a failed write (disk full, permission) never leaves a partial file
under a final name, nor touches a file that was there: every file is written in full beside its final name,
flushed to disk, and only then renamed over it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import models as m
from inventory.csvsafe import neutralise
from inventory.docfiles import YAML_SUFFIXES, write_file
from inventory.docformat import KEYS, MODELS, PLAIN
from inventory.secretbox import SecretDecryptError, undecryptable

log = logging.getLogger(__name__)

Doc = dict[str, Any]


def neutralise_for_csv(doc: Doc) -> Doc:
    """A copy of an exported ``doc`` whose text cells are inert when the CSV files are opened in a spreadsheet.

    Strings in rows and in nested references are neutralised; of a ``tags`` list (joined by commas into one
    cell) the first tag; other lists are written as JSON (starting with ``[``) and are left as they are.
    """

    def value(key: str, v: Any) -> Any:
        if isinstance(v, str):
            return neutralise(v)
        if isinstance(v, dict):
            return {k: value(k, x) for k, x in v.items()}
        if isinstance(v, list):
            if v and all(isinstance(x, dict) for x in v):
                return [value(key, x) for x in v]
            if key == "tags" and v and isinstance(v[0], str):
                return [neutralise(v[0]), *v[1:]]
        return v

    return {key: [value(key, row) for row in rows] for key, rows in doc.items()}


def write_export(doc: Doc, path: Path, *, private: bool = False) -> list[Path]:
    """Write an exported ``doc`` to ``path`` (.yaml/.yml, .json, or else a directory of CSV files).

    Each file is written whole beside its final name (a hidden temporary file, or a hidden directory for
    CSV), fsynced, then renamed over the final name; on any error the temporaries are removed, the error
    propagates and the files already there are left as they were. CSV cells are neutralised for spreadsheets.
    With ``private`` (secrets included) every file ends 0600 and a CSV directory 0700, and no other user can
    read a file at any moment (a temporary is 0600, a staging directory 0700).
    """
    if path.suffix.lower() in (*YAML_SUFFIXES, ".json"):
        # 0600; the same suffix, which tells write_file the format
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            write_file(doc, tmp)
            _settle(tmp, private)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return [path]
    created = not path.exists()
    path.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    if private:
        path.chmod(0o700)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=path))  # 0700: no one else sees a file meanwhile
    try:
        files = write_file(neutralise_for_csv(doc), staging)
        for f in files:
            _settle(f, private)
        written = []
        for f in files:
            os.replace(f, path / f.name)
            written.append(path / f.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                path.rmdir()  # only if still empty
        raise
    shutil.rmtree(staging, ignore_errors=True)
    _fsync_dir(path)
    return written


def _settle(file: Path, private: bool) -> None:
    """Flush ``file`` to disk and give it its final mode (0600 private, else the umask's)."""
    file.chmod(0o600 if private else 0o666 & ~_umask())
    with open(file, "rb") as fh:
        os.fsync(fh.fileno())


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (``os.umask`` sets it to read it)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


class _Tables:
    """Every inventory table of the session, by id (one query per table)."""

    def __init__(self, session: Session) -> None:
        self.rows: dict[type[m.InventoryModel], list[Any]] = {}
        self.by_id: dict[type[m.InventoryModel], dict[int, Any]] = {}
        models: list[type[m.InventoryModel]] = [*MODELS.values(), m.RegionParentLink, m.CircuitTermination]
        for model in models:
            rows = list(session.scalars(select(model)))
            self.rows[model] = rows
            self.by_id[model] = {r.id: r for r in rows if r.id is not None}

    def get(self, model: type[m.InventoryModel], pk: int | None) -> Any:
        return None if pk is None else self.by_id[model].get(pk)

    def slug(self, model: type[m.InventoryModel], pk: int | None) -> str | None:
        obj = self.get(model, pk)
        return None if obj is None else obj.slug

    def device_ref(self, pk: int | None) -> dict[str, str] | None:
        dev = self.get(m.Device, pk)
        return None if dev is None else {"site": self.slug(m.Site, dev.site_id) or "", "name": dev.name}


def _plain(key: str, obj: Any, *, skip: tuple[str, ...] = ()) -> Doc:
    return {f: _value(getattr(obj, f)) for f in PLAIN[key] if f not in skip}


def export_document(session: Session, *, include_secrets: bool = False) -> Doc:
    """The inventory as a document in the import format, keys in processing order, rows sorted."""
    t = _Tables(session)
    doc: Doc = {}
    simple = ("tags", "tenants", "manufacturers", "device_roles", "platforms", "providers", "circuit_types")
    for key in simple:
        doc[key] = sorted((_plain(key, o) for o in t.rows[MODELS[key]]), key=lambda r: r["slug"])
    doc["regions"], doc["region_changes"] = _regions(t)
    doc["sites"] = sorted(({**_plain("sites", s), "region": _code(t, s.region_id),
                            "tenant": t.slug(m.Tenant, s.tenant_id)} for s in t.rows[m.Site]),
                          key=lambda r: r["slug"])
    doc["locations"] = sorted(({"site": t.slug(m.Site, loc.site_id), **_plain("locations", loc)}
                               for loc in t.rows[m.Location]), key=lambda r: (r["site"], r["slug"]))
    doc["racks"] = sorted(({"site": t.slug(m.Site, r.site_id), "location": t.slug(m.Location, r.location_id),
                            **_plain("racks", r)} for r in t.rows[m.Rack]), key=lambda r: (r["site"], r["name"]))
    doc["device_types"] = sorted(({"manufacturer": t.slug(m.Manufacturer, d.manufacturer_id),
                                   **_plain("device_types", d)} for d in t.rows[m.DeviceType]),
                                 key=lambda r: r["slug"])
    secret = set() if include_secrets else set(m.SnmpProfile.secret_fields)
    sealed = [msg for p in t.rows[m.SnmpProfile] for msg in undecryptable(p)] if include_secrets else []
    if sealed:  # never write a ciphertext where the importer expects the plaintext
        raise SecretDecryptError("; ".join(sealed))
    doc["snmp_profiles"] = sorted(({k: v for k, v in _plain("snmp_profiles", p).items() if k not in secret}
                                   for p in t.rows[m.SnmpProfile]), key=lambda r: r["name"])
    doc["devices"] = _devices(t)
    doc["circuits"] = _circuits(t)
    doc["vc_endpoints"] = sorted(({"device": t.device_ref(v.device_id), "mcu": t.device_ref(v.mcu_id),
                                   **_plain("vc_endpoints", v)} for v in t.rows[m.VideoconferenceEndpoint]),
                                 key=lambda r: (r["device"]["site"], r["device"]["name"]))
    doc["services"] = sorted(({"device": t.device_ref(s.device_id), **_plain("services", s),
                               "tenant": t.slug(m.Tenant, s.tenant_id)} for s in t.rows[m.Service]),
                             key=lambda r: (r["device"]["site"], r["device"]["name"], r["name"]))
    doc["coverage_targets"] = sorted((_plain("coverage_targets", c) for c in t.rows[m.CoverageTarget]),
                                     key=lambda r: (r["plan"], r["category"]))
    log.info("event=inventory_export with_credentials=%s rows=%d", include_secrets,
             sum(len(v) for v in doc.values()))
    return {k: doc[k] for k in KEYS if k in doc}


def _code(t: _Tables, pk: int | None) -> str | None:
    region = t.get(m.Region, pk)
    return None if region is None else region.code


def _regions(t: _Tables) -> tuple[list[Doc], list[Doc]]:
    """Region rows as created (parent = the first parent link) and the recorded changes in date order."""
    first_link: dict[int, m.RegionParentLink] = {}
    for link in sorted(t.rows[m.RegionParentLink], key=lambda lk: lk.valid_from):
        first_link.setdefault(link.region_id, link)
    regions = []
    for r in sorted(t.rows[m.Region], key=lambda r: r.code):
        link = first_link.get(r.id)
        regions.append({**_plain("regions", r), "parent": _code(t, link.parent_id) if link else None,
                        "valid_to": _value(r.valid_to)})
    changes = []
    for c in sorted(t.rows[m.RegionChange], key=lambda c: (c.date, _code(t, c.region_id) or "", c.kind)):
        row: Doc = {"region": _code(t, c.region_id), "kind": c.kind, "date": c.date.isoformat()}
        if c.successor_id is not None:
            row["successor"] = _code(t, c.successor_id)
        if c.parent_id is not None:
            row["parent"] = _code(t, c.parent_id)
        for column in ("new_name", "new_unit_type"):  # a rename's name and type from its date on
            if getattr(c, column) is not None:
                row[column] = getattr(c, column)
        row["note"] = c.note
        changes.append(row)
    return regions, changes


def _devices(t: _Tables) -> list[Doc]:
    addresses: dict[int | None, list[m.IPAddress]] = defaultdict(list)
    for ip in t.rows[m.IPAddress]:
        if ip.interface_id is not None:
            addresses[ip.interface_id].append(ip)
    interfaces: dict[int, list[m.Interface]] = defaultdict(list)
    for iface in t.rows[m.Interface]:
        interfaces[iface.device_id].append(iface)
    out = []
    for d in t.rows[m.Device]:
        primary = t.get(m.IPAddress, d.primary_ip_id)
        rack = t.get(m.Rack, d.rack_id)
        out.append({
            "site": t.slug(m.Site, d.site_id), "name": d.name, "role": t.slug(m.DeviceRole, d.role_id),
            "device_type": t.slug(m.DeviceType, d.device_type_id), "platform": t.slug(m.Platform, d.platform_id),
            **_plain("devices", d, skip=("name",)), "rack": rack.name if rack else None,
            "parent": t.device_ref(d.parent_id), "primary_ip": primary.address if primary else None,
            "monitoring": {"enabled": d.monitoring_enabled, "snmp_profile": _name(t, d.snmp_profile_id),
                           "poller_group": d.poller_group},
            "interfaces": [
                {**_plain("interfaces", i),
                 "ip_addresses": [_plain("ip_addresses", ip) for ip in sorted(addresses[i.id], key=_ip_order)]}
                for i in sorted(interfaces[d.id], key=lambda i: i.name)],
        })
    return sorted(out, key=lambda r: (r["site"], r["name"]))


def _name(t: _Tables, pk: int | None) -> str | None:
    profile = t.get(m.SnmpProfile, pk)
    return None if profile is None else profile.name


def _ip_order(ip: m.IPAddress) -> tuple[int, str]:
    return (6 if ":" in ip.host else 4, ip.host)


def _circuits(t: _Tables) -> list[Doc]:
    terms: dict[tuple[int, str], m.CircuitTermination] = {
        (term.circuit_id, term.term_side): term for term in t.rows[m.CircuitTermination]}
    out = []
    for c in t.rows[m.Circuit]:
        row: Doc = {"provider": t.slug(m.Provider, c.provider_id), "cid": c.cid,
                    "type": t.slug(m.CircuitType, c.type_id), **_plain("circuits", c, skip=("cid",))}
        for side in ("A", "Z"):
            term = terms.get((c.id, side))
            if term is None:
                row[side.lower()] = None
                continue
            dev = t.get(m.Device, term.device_id)
            iface = t.get(m.Interface, term.interface_id)
            row[side.lower()] = {"site": t.slug(m.Site, term.site_id), "device": dev.name if dev else None,
                                 "interface": iface.name if iface else None}
        out.append(row)
    return sorted(out, key=lambda r: (r["provider"], r["cid"]))
