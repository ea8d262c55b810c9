"""Derive the demo province's administrative units from the open `vietnamadminunits` data set.

Development-time tool: it reads the SQLite file shipped inside the MIT-licensed PyPI package
`vietnamadminunits` (table ``admin_units_legacy``, the units in force just before the reorganisation
of 1/7/2025) and writes ``inventory/data/bac_giang_regions.json``: the province, its district-level
units and its commune-level units with official codes, names (NFC), types, slugs and coordinates,
plus an attribution block. The runtime only reads that JSON file; it never imports the package.

Usage::

    .venv/bin/python tools/derive_demo_regions.py [--province-code 24] [--out PATH] [--derived-on YYYY-MM-DD]

The package is located through its installed metadata (``importlib.metadata``) without importing it.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sqlite3
import sys
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

log = logging.getLogger("derive_demo_regions")

PACKAGE = "vietnamadminunits"
DB_MEMBER = "vietnamadminunits/data/dataset.db"
SOURCE_URL = "https://github.com/tranngocminhhieu/vietnamadminunits"
PYPI_URL = "https://pypi.org/project/vietnamadminunits/"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "inventory" / "data" / "bac_giang_regions.json"

# Slug prefixes per unit type (Vietnamese abbreviations in common use).
TYPE_PREFIX = {
    "tỉnh": "",
    "thành phố": "tp",
    "thị xã": "tx",
    "quận": "q",
    "huyện": "h",
    "phường": "p",
    "thị trấn": "tt",
    "xã": "x",
}


@dataclass(frozen=True)
class Unit:
    """One administrative unit as written to the data file."""

    code: str
    name: str
    short_name: str
    type: str
    level: str
    parent: str | None
    slug: str
    latitude: float
    longitude: float


def nfc(text: str) -> str:
    """Return ``text`` stripped and normalised to Unicode NFC."""
    return unicodedata.normalize("NFC", text.strip())


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of a Vietnamese name: diacritics removed, đ → d."""
    text = nfc(text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(*parts: str) -> str:
    """Join the ASCII-folded parts into a slug matching ``^[a-z0-9]+(-[a-z0-9]+)*$``."""
    words = re.split(r"[^a-z0-9]+", " ".join(ascii_fold(p) for p in parts if p))
    return "-".join(w for w in words if w)


def full_name(unit_type: str, short_name: str) -> str:
    """Canonical full name: type with only its first letter capitalised, then the short name."""
    return f"{unit_type.capitalize()} {short_name}"


def locate_package() -> tuple[Path, str]:
    """Return the installed data-set path and the package version, without importing the package."""
    try:
        dist = distribution(PACKAGE)
    except PackageNotFoundError:
        sys.exit(f"package {PACKAGE} is not installed; install it into the venv first")
    db = Path(str(dist.locate_file(DB_MEMBER)))
    if not db.is_file():
        sys.exit(f"{db} not found in the installed {PACKAGE} {dist.version}")
    return db, dist.version


def read_rows(db: Path, province_code: str) -> list[sqlite3.Row]:
    """Read the legacy (pre-1/7/2025) rows of one province, one row per commune-level unit."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(
            "SELECT provinceShort, provinceCode, provinceLat, provinceLon, provinceBounds,"
            " districtShort, districtType, districtCode, districtLat, districtLon,"
            " wardShort, wardType, wardCode, wardLat, wardLon"
            " FROM admin_units_legacy WHERE provinceCode = ? ORDER BY wardCode",
            (province_code,),
        ).fetchall()
    finally:
        con.close()


def derive(rows: list[sqlite3.Row]) -> dict[str, Any]:
    """Build the province/districts/communes structure from the legacy rows."""
    if not rows:
        raise ValueError("no rows for that province code")
    first = rows[0]
    province_short = nfc(first["provinceShort"])
    south_west, north_east = (p.strip() for p in first["provinceBounds"].split("–"))
    lat_min, lon_min = (float(v) for v in south_west.split(","))
    lat_max, lon_max = (float(v) for v in north_east.split(","))
    province = Unit(
        code=first["provinceCode"], name=full_name("tỉnh", province_short), short_name=province_short,
        type="tỉnh", level="province", parent=None, slug=slugify(province_short),
        latitude=first["provinceLat"], longitude=first["provinceLon"],
    )
    districts: dict[str, Unit] = {}
    for row in rows:
        code = row["districtCode"]
        if code in districts:
            continue
        unit_type, short = nfc(row["districtType"]).lower(), nfc(row["districtShort"])
        districts[code] = Unit(
            code=code, name=full_name(unit_type, short), short_name=short, type=unit_type,
            level="district", parent=province.code, slug=slugify(TYPE_PREFIX[unit_type], short),
            latitude=row["districtLat"], longitude=row["districtLon"],
        )
    # Commune slugs are the type prefix plus the name; a name used twice in the province gets the
    # district's name appended to every unit that carries it, so slugs stay unique and stable.
    base_slugs = Counter(slugify(TYPE_PREFIX[nfc(r["wardType"]).lower()], r["wardShort"]) for r in rows)
    communes: list[Unit] = []
    for row in rows:
        unit_type, short = nfc(row["wardType"]).lower(), nfc(row["wardShort"])
        district = districts[row["districtCode"]]
        slug = slugify(TYPE_PREFIX[unit_type], short)
        if base_slugs[slug] > 1:
            slug = slugify(slug, district.short_name)
        communes.append(Unit(
            code=row["wardCode"], name=full_name(unit_type, short), short_name=short, type=unit_type,
            level="commune", parent=district.code, slug=slug,
            latitude=row["wardLat"], longitude=row["wardLon"],
        ))
    return {
        "province": {
            **asdict(province),
            "bounds": {"lat_min": lat_min, "lon_min": lon_min, "lat_max": lat_max, "lon_max": lon_max},
        },
        "districts": [asdict(d) for d in sorted(districts.values(), key=lambda u: u.code)],
        "communes": [asdict(c) for c in communes],
    }


def attribution(version: str, derived_on: date) -> dict[str, Any]:
    """The attribution block stored at the top of the data file."""
    return {
        "package": PACKAGE,
        "version": version,
        "licence": "MIT",
        "copyright": "Copyright (c) 2025 Tran Ngoc Minh Hieu",
        "source_url": SOURCE_URL,
        "pypi_url": PYPI_URL,
        "table": "admin_units_legacy",
        "derived_on": derived_on.isoformat(),
        "derived_by": "tools/derive_demo_regions.py",
        "structure": "administrative units in force just before the reorganisation of 1/7/2025",
        "notes": [
            "Names are normalised to Unicode NFC; unit types are lower case; a full name is the type"
            " with a capital first letter followed by the short name (the source spells one district"
            " 'Thị Xã Việt Yên').",
            "Coordinates are approximate geocoded points from the source, not boundaries; several"
            " units share their district's point.",
            "Slugs are generated here (type prefix + ASCII-folded name; the district name is appended"
            " when a name occurs twice in the province).",
        ],
    }


def render(document: dict[str, Any]) -> str:
    """JSON text with one unit per line, so a re-derivation shows up as a readable diff."""
    blocks = []
    for key, value in document.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in value)
            body = f"[\n{items}\n ]"
        else:
            body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n ")
        blocks.append(f" {json.dumps(key)}: {body}")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-code", default="24", help="official province code (Bắc Giang: 24)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--derived-on", type=date.fromisoformat, default=date.today(),
                        help="date recorded in the attribution block (default: today)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    db, version = locate_package()
    data = derive(read_rows(db, args.province_code))
    document = {"attribution": attribution(version, args.derived_on), **data}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(document), encoding="utf-8")
    log.info("event=regions_derived province=%s districts=%d communes=%d version=%s out=%s",
             args.province_code, len(data["districts"]), len(data["communes"]), version, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
