"""Derive the demo province's reorganisation of 1/7/2025 from the open `vietnamadminunits` data set.

Development-time tool, the companion of ``tools/derive_demo_regions.py``. From the MIT-licensed PyPI package
`vietnamadminunits` it reads the 2025 units (table ``admin_units`` of ``data/dataset.db``), the legacy units
(table ``admin_units_legacy``) and the package's legacy → 2025 mapping (``data/converter_2025.json``: keys
``DICT_PROVINCE``, ``DICT_PROVINCE_WARD_NO_DIVIDED``, ``DICT_PROVINCE_WARD_DIVIDED``), and writes
``inventory/data/bac_giang_reorg_2025.json``:

* ``province``: the province the legacy province was merged into (official 2025 code, name, coordinates,
  the legacy provinces merged into it);
* ``communes``: every 2025 commune-level unit that at least one legacy commune of the province went into
  (official code, NFC name, type, slug unique against the legacy slugs, coordinates, area, predecessors);
* ``successors``: one row per legacy commune with its 2025 successor.

A legacy commune listed in ``DICT_PROVINCE_WARD_NO_DIVIDED`` went whole into one unit. One listed in
``DICT_PROVINCE_WARD_DIVIDED`` was split: every unit it went into is kept, and its successor (the primary
unit) is the one the package marks ``isDefaultNewWard``, else the largest by area, else the lowest code.

Usage::

    .venv/bin/python tools/derive_demo_reorg_2025.py [--province-code 24] [--out PATH] [--derived-on YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_demo_regions import (  # a sibling script, not a package
    PACKAGE,
    PYPI_URL,
    SOURCE_URL,
    TYPE_PREFIX,
    full_name,
    locate_package,
    nfc,
    render,
    slugify,
)

log = logging.getLogger("derive_demo_reorg_2025")

DATA = Path(__file__).resolve().parent.parent / "inventory" / "data"
DEFAULT_OUT = DATA / "bac_giang_reorg_2025.json"
LEGACY_FILE = DATA / "bac_giang_regions.json"
MAPPING_MEMBER = "data/converter_2025.json"
EFFECTIVE = "2025-07-01"


def _connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def _legacy_keys(con: sqlite3.Connection, province_code: str) -> tuple[str, dict[str, str]]:
    """The legacy province's key and, per legacy commune, ``province_district_ward`` key → commune code."""
    rows = con.execute("SELECT provinceKey, districtKey, wardKey, wardCode FROM admin_units_legacy"
                       " WHERE provinceCode = ? ORDER BY wardCode", (province_code,)).fetchall()
    if not rows:
        raise ValueError(f"no legacy rows for province code {province_code}")
    keys = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"] for r in rows}
    return rows[0]["provinceKey"], keys


def _targets(mapping: dict[str, Any], new_province: str, legacy: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Legacy commune code → the 2025 units (by ward key) it went into, each with the split marks."""
    out: dict[str, list[dict[str, Any]]] = {code: [] for code in legacy.values()}
    for ward_key, members in mapping["DICT_PROVINCE_WARD_NO_DIVIDED"].get(new_province, {}).items():
        for member in members:
            if member in legacy:
                out[legacy[member]].append({"key": ward_key, "default": True, "area": None})
    for member, parts in mapping["DICT_PROVINCE_WARD_DIVIDED"].get(new_province, {}).items():
        if member in legacy:
            out[legacy[member]] += [{"key": p["newWardKey"], "default": bool(p["isDefaultNewWard"]),
                                     "area": p.get("newWardAreaKm2")} for p in parts]
    unmapped = sorted(code for code, targets in out.items() if not targets)
    if unmapped:
        raise ValueError(f"legacy communes without a 2025 unit in the mapping: {unmapped}")
    return out


def derive(db: Path, mapping: dict[str, Any], legacy_regions: dict[str, Any], province_code: str) -> dict[str, Any]:
    """Build the 2025 province, its units that took over the legacy communes, and the successor table."""
    con = _connect(db)
    try:
        legacy_province_key, legacy = _legacy_keys(con, province_code)
        new_key = next(k for k, members in mapping["DICT_PROVINCE"].items() if legacy_province_key in members)
        merged_provinces = mapping["DICT_PROVINCE"][new_key]
        rows = con.execute("SELECT provinceShort, provinceCode, provinceLat, provinceLon, wardKey, wardShort,"
                           " wardType, wardCode, wardLat, wardLon, wardAreaKm2 FROM admin_units"
                           " WHERE provinceKey = ? ORDER BY wardCode", (new_key,)).fetchall()
        predecessor_codes = sorted({r[0] for key in merged_provinces for r in con.execute(
            "SELECT DISTINCT provinceCode FROM admin_units_legacy WHERE provinceKey = ?", (key,))})
    finally:
        con.close()
    units = {r["wardKey"]: r for r in rows}
    targets = _targets(mapping, new_key, legacy)
    area = {key: units[key]["wardAreaKm2"] for key in units}

    def primary(options: list[dict[str, Any]]) -> str:
        if len(options) == 1:
            return str(options[0]["key"])
        marked = [o for o in options if o["default"]]
        if len(marked) == 1:
            return str(marked[0]["key"])
        return str(min(options, key=lambda o: (-(area.get(o["key"]) or 0), units[o["key"]]["wardCode"]))["key"])

    first = rows[0]
    province_short = nfc(first["provinceShort"])
    province = {
        "code": first["provinceCode"], "name": full_name("tỉnh", province_short), "short_name": province_short,
        "type": "tỉnh", "level": "province", "parent": None, "slug": slugify(province_short),
        "latitude": first["provinceLat"], "longitude": first["provinceLon"], "valid_from": EFFECTIVE,
        "predecessors": predecessor_codes,
    }
    legacy_slugs = {u["slug"] for u in [legacy_regions["province"], *legacy_regions["districts"],
                                        *legacy_regions["communes"]]}
    if province["slug"] in legacy_slugs:
        province["slug"] = slugify(province["slug"], "2025")
    used = sorted({t["key"] for options in targets.values() for t in options}, key=lambda k: units[k]["wardCode"])
    members: dict[str, list[str]] = {key: [] for key in used}
    for code, options in sorted(targets.items()):
        for option in options:
            members[option["key"]].append(code)
    communes = []
    for key in used:
        r = units[key]
        unit_type, short = nfc(r["wardType"]).lower(), nfc(r["wardShort"])
        slug = slugify(TYPE_PREFIX[unit_type], short)
        communes.append({
            "code": r["wardCode"], "name": full_name(unit_type, short), "short_name": short, "type": unit_type,
            "level": "commune", "parent": province["code"],
            "slug": slugify(slug, "2025") if slug in legacy_slugs else slug,
            "latitude": r["wardLat"], "longitude": r["wardLon"], "area_km2": r["wardAreaKm2"],
            "valid_from": EFFECTIVE, "predecessors": members[key],
        })
    successors = [{"legacy": code, "successor": units[primary(options)]["wardCode"],
                   "split_into": sorted(units[o["key"]]["wardCode"] for o in options) if len(options) > 1 else []}
                  for code, options in sorted(targets.items())]
    return {"province": province, "communes": communes, "successors": successors}


def counts(data: dict[str, Any]) -> dict[str, Any]:
    """The figures recorded in the attribution block."""
    sizes = Counter(len(c["predecessors"]) for c in data["communes"])
    return {
        "legacy_communes": len(data["successors"]),
        "new_communes": len(data["communes"]),
        "new_communes_by_type": dict(sorted(Counter(c["type"] for c in data["communes"]).items())),
        "legacy_communes_per_new_unit": {"max": max(sizes), "min": min(sizes),
                                         "histogram": {str(k): v for k, v in sorted(sizes.items())}},
        "split_legacy_communes": sum(1 for s in data["successors"] if s["split_into"]),
        "new_codes_reused_from_a_legacy_commune": sum(1 for c in data["communes"] if c["code"] in c["predecessors"]),
        "legacy_provinces_merged": len(data["province"]["predecessors"]),
    }


def attribution(version: str, derived_on: date, data: dict[str, Any]) -> dict[str, Any]:
    """The attribution block stored at the top of the data file."""
    return {
        "package": PACKAGE, "version": version, "licence": "MIT",
        "copyright": "Copyright (c) 2025 Tran Ngoc Minh Hieu", "source_url": SOURCE_URL, "pypi_url": PYPI_URL,
        "tables": ["admin_units", "admin_units_legacy"],
        "mapping": f"{PACKAGE}/{MAPPING_MEMBER} (DICT_PROVINCE, DICT_PROVINCE_WARD_NO_DIVIDED,"
                   " DICT_PROVINCE_WARD_DIVIDED)",
        "derived_on": derived_on.isoformat(), "derived_by": "tools/derive_demo_reorg_2025.py",
        "structure": "the 2025 units that took over the legacy province and its communes on 1/7/2025 "
                     "(district level abolished)",
        "effective": EFFECTIVE,
        "counts": counts(data),
        "notes": [
            "Names NFC, types lower case, full name = capitalised type + short name, as in bac_giang_regions.json.",
            "Slugs: type prefix + ASCII-folded name; '-2025' is appended when that slug is already a legacy slug.",
            "Successor of a legacy commune: the single unit it went into; for a commune split by the mapping, the "
            "unit marked isDefaultNewWard, else the largest by area, else the lowest code.",
            "The official 2025 codes reuse legacy codes: the province keeps code 24 and every new commune-level "
            "unit carries the code of one of the legacy communes it took over (see the counts).",
            "Coordinates are approximate points from the source, not boundaries; area_km2 is the source's area.",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--province-code", default="24", help="official legacy province code (Bắc Giang: 24)")
    parser.add_argument("--legacy", type=Path, default=LEGACY_FILE, help="the derived legacy units (for slugs)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--derived-on", type=date.fromisoformat, default=date.today(),
                        help="date recorded in the attribution block (default: today)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    db, version = locate_package()
    mapping = json.loads((db.parent.parent / MAPPING_MEMBER).read_text(encoding="utf-8"))
    legacy_regions = json.loads(args.legacy.read_text(encoding="utf-8"))
    data = derive(db, mapping, legacy_regions, args.province_code)
    document = {"attribution": attribution(version, args.derived_on, data), **data}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(document), encoding="utf-8")
    log.info("event=reorg_derived province=%s new_province=%s new_communes=%d legacy_communes=%d version=%s out=%s",
             args.province_code, data["province"]["code"], len(data["communes"]), len(data["successors"]),
             version, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
