"""The demo province's reorganisation of 1/7/2025 as regions and dated ``region_changes``.

Input: the legacy units (``data/bac_giang_regions.json``) already written as the document's ``regions``,
and the open-data reorganisation (``data/bac_giang_reorg_2025.json``). Output: the changes that make
:func:`inventory.queries.regions_as_of` give the legacy structure before the date and the 2025 one from it,
names included (``rename`` changes), without overwriting any region.
"""

from __future__ import annotations

from datetime import date
from typing import Any

Doc = dict[str, Any]

REORG_DATE = date(2025, 7, 1)  # district level abolished, communes merged, new province of Bắc Ninh


def reorganisation(doc: Doc, regions: Doc, reorg: Doc) -> None:
    """Add the reorganisation of 1/7/2025 to ``doc`` (its ``regions`` and ``region_changes``).

    The official 2025 codes reuse legacy ones (province 24 keeps its code; every 2025 commune carries the code
    of one of the communes it took over), and a code is a region's permanent natural key. So a legacy unit
    whose code the 2025 unit carries continues as that region (a commune is reparented to the province) and
    gets a ``rename`` on the date when its 2025 name or type differs (the region keeps the name it was created
    with; the rename dates the new one); every other legacy commune merges into its successor. The district
    level is abolished: each district merges into the province, so a site registered at a district counts
    under the province. A 2025 unit with a code of its own would be a new region, valid from the date, under
    the province.
    """
    when, rows = REORG_DATE.isoformat(), {r["code"]: r for r in doc["regions"]}
    province, changes, new = reorg["province"], doc["region_changes"], {c["code"]: c for c in reorg["communes"]}
    text = {u["code"]: f"{u['type']} {u['short_name']}" for u in [province, *reorg["communes"]]}
    top, top_text = province["code"], text[province["code"]]
    for unit in [province, *reorg["communes"]]:
        if unit["code"] not in rows:
            rows[unit["code"]] = {
                "code": unit["code"], "name": unit["name"], "slug": unit["slug"], "level": unit["level"],
                "unit_type": unit["type"], "parent": unit["parent"], "valid_from": when, "valid_to": None,
                "latitude": unit["latitude"], "longitude": unit["longitude"], "description": ""}
            doc["regions"].append(rows[unit["code"]])
        else:
            _rename(changes, rows[unit["code"]], unit, when)

    def merge(code: str, into: str, note: str) -> None:
        rows[code]["valid_to"] = when
        changes.append({"region": code, "kind": "merge", "successor": into, "date": when, "note": note})

    if regions["province"]["code"] != top:
        merge(regions["province"]["code"], top, f"Sắp xếp ĐVHC cấp tỉnh: nhập vào {top_text}")
    for district in regions["districts"]:
        merge(district["code"], top, f"Bỏ cấp huyện từ 01/07/2025: địa bàn thuộc {top_text}")
    for row in reorg["successors"]:
        code, unit = row["legacy"], new[row["successor"]]
        if code == unit["code"]:
            changes.append({"region": code, "kind": "reparent", "parent": top, "date": when,
                            "note": f"Bỏ cấp huyện: {unit['name']} trực thuộc {top_text}"})
        elif code in new:
            raise ValueError(f"commune {code} keeps its code in 2025 but its successor is {unit['code']}")
        else:
            merge(code, unit["code"], f"Sắp xếp ĐVHC cấp xã: nhập vào {text[unit['code']]} ({unit['code']})")


def _rename(changes: list[Doc], region: Doc, unit: Doc, when: str) -> None:
    """A ``rename`` of the continuing ``region`` to the 2025 ``unit``'s name and type, if either differs."""
    if (region["name"], region["unit_type"]) == (unit["name"], unit["type"]):
        return
    changes.append({"region": region["code"], "kind": "rename", "date": when, "new_name": unit["name"],
                    "new_unit_type": unit["type"], "note": f"Từ 01/07/2025: {unit['name']}"})
