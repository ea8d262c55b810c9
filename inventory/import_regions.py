"""Importing administrative units and their dated reorganisations; history is added, never overwritten.

A ``regions`` row describes a unit as it was created: its ``parent`` becomes the first ``RegionParentLink``
(from the unit's ``valid_from``). ``region_changes`` rows are applied in date order as dated records:

* ``merge``: the unit's ``valid_to`` becomes the date, ``successor_id`` is set, and the parent link open at
  that date is closed on it;
* ``reparent``: the link open at the date is closed on it and a new link to the new parent opens;
* ``rename``: only recorded; ``new_name`` (and ``new_unit_type``) are the unit's name from the date on
  (:func:`inventory.dated.name_on`); the region row keeps the name it was created with.

A change already recorded (same region, kind and date) is not applied again, so a re-import changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from inventory import models as m
from inventory.choices import RegionChangeKindChoices as Kind
from inventory.choices import RegionLevelChoices as Level
from inventory.dated import valid_on
from inventory.docformat import ValueProblem, coerce, column_info

if TYPE_CHECKING:
    from inventory.importer import Row, _Importer

EARLIEST = date(1900, 1, 1)


def _merge_dates(imp: _Importer) -> dict[str, date]:
    """Region code → date of its merge, from the document's region_changes and from recorded changes."""
    out: dict[str, date] = {}
    for change in imp.index.objects[m.RegionChange]:
        region = imp.index.get(m.Region, change.region_id)
        if change.kind == Kind.MERGE and region is not None:
            out[region.code] = change.date
    for data in imp.doc.get("region_changes") or []:
        if isinstance(data, dict) and data.get("kind") == Kind.MERGE and data.get("region") is not None:
            try:
                when = coerce(column_info(m.RegionChange, "date"), data.get("date"), from_csv=False)
            except ValueProblem:
                continue
            if when is not None:
                out[str(data["region"]).strip()] = when
    return out


def regions(imp: _Importer) -> None:
    merges = _merge_dates(imp)
    placed: list[tuple[Row, m.Region]] = []
    for row in imp.rows("regions"):
        values = imp.plain_values(row, m.Region)
        if row.data.get("valid_to") not in (None, ""):
            try:
                valid_to = coerce(column_info(m.Region, "valid_to"), row.data["valid_to"], from_csv=row.from_csv)
            except ValueProblem as exc:
                row.issue("valid_to", str(exc))
            else:
                merged = merges.get(str(values.get("code")))
                if valid_to != merged:
                    row.issue("valid_to", f"{valid_to} is not the date of a merge of this region; a region ends "
                                          "only through a merge in region_changes" +
                                          (f" (its merge is on {merged})" if merged else ""))
        obj = imp.upsert(row, m.Region, values)
        if isinstance(obj, m.Region):
            placed.append((row, obj))
    imp.flush()
    links = imp.index.group_by(m.RegionParentLink, "region_id")
    for row, region in placed:
        _first_parent(imp, row, region, sorted(links.get(region.id, []), key=lambda link: link.valid_from))
    imp.flush()


def _first_parent(imp: _Importer, row: Row, region: m.Region, links: list[m.RegionParentLink]) -> None:
    code = imp.ref_text(row, "parent", row.data.get("parent"))
    if code is None:
        if region.level != Level.PROVINCE and not links:
            row.issue("parent", f"a {region.level} needs its parent region")
        return
    if region.level == Level.PROVINCE:
        row.issue("parent", "a province has no parent region")
        return
    parent_id = imp.ref(row, "parent", m.Region, (code,), f'with code "{code}"')
    if parent_id is None:
        return
    if links:
        first = links[0]
        if first.parent_id != parent_id:
            was = imp.index.get(m.Region, first.parent_id)
            row.issue("parent", f"region {region.code} has had parent {was.code if was else first.parent_id} "
                                f"since {first.valid_from}; a parent is never overwritten: record a change "
                                "in region_changes (kind: reparent) instead")
        return
    start = region.valid_from or EARLIEST
    imp.upsert(row, m.RegionParentLink, {"region_id": region.id, "parent_id": parent_id, "valid_from": start,
                                         "valid_to": None}, lambda c: "parent")


def region_changes(imp: _Importer) -> None:
    rows = list(imp.rows("region_changes"))
    prepared: list[tuple[date, Row, dict[str, Any]]] = []
    for row in rows:
        values = imp.plain_values(row, m.RegionChange)
        code = imp.ref_text(row, "region", row.data.get("region"))
        values["region_id"] = None if code is None else imp.ref(row, "region", m.Region, (code,),
                                                                  f'with code "{code}"')
        kind = values.get("kind")
        needed, forbidden = ("successor", "parent") if kind == Kind.MERGE else ("parent", "successor")
        if kind == Kind.RENAME:
            for field in ("successor", "parent"):
                if imp.ref_text(row, field, row.data.get(field)) is not None:
                    row.issue(field, f"not allowed for kind {kind}")
        elif kind in (Kind.MERGE, Kind.REPARENT):
            if imp.ref_text(row, forbidden, row.data.get(forbidden)) is not None:
                row.issue(forbidden, f"not allowed for kind {kind}")
            target = imp.ref_text(row, needed, row.data.get(needed))
            if target is None:
                row.issue(needed, f"required for kind {kind}")
            else:
                values[f"{needed}_id"] = imp.ref(row, needed, m.Region, (target,), f'with code "{target}"')
        if isinstance(values.get("date"), date):
            prepared.append((values["date"], row, values))
        elif not row.skip:
            row.issue("date", "this field is required")
    for _, row, values in sorted(prepared, key=lambda p: p[0]):
        _apply_change(imp, row, values)
    imp.flush()


def _apply_change(imp: _Importer, row: Row, values: dict[str, Any]) -> None:
    region = imp.index.get(m.Region, values.get("region_id"))
    key = (values.get("region_id"), values.get("kind"), values.get("date"))
    recorded = imp.index.key(m.RegionChange, key) if region is not None else None
    if row.skip or region is None:
        imp.upsert(row, m.RegionChange, values)  # reports missing fields or marks the row failed
        return
    if recorded is not None:
        for column in ("successor_id", "parent_id", "new_name", "new_unit_type"):
            if column in values and getattr(recorded, column) != values[column]:
                row.issue(column.removesuffix("_id"), "differs from the change recorded for this region, kind "
                                                      "and date; recorded changes are never overwritten")
        imp.upsert(row, m.RegionChange, values)
        return
    when: date = values["date"]
    if region.valid_from is not None and when <= region.valid_from:
        row.issue("date", f"{when} is not after the region's valid_from {region.valid_from}")
    if region.valid_to is not None and when >= region.valid_to:
        row.issue("date", f"region {region.code} was merged on {region.valid_to}; nothing can happen to it on "
                          "or after that date")
    links = sorted((lk for lk in imp.index.objects[m.RegionParentLink] if lk.region_id == region.id),
                   key=lambda lk: lk.valid_from)
    open_link = next((lk for lk in reversed(links) if valid_on(lk.valid_from, lk.valid_to, when)), None)
    if values["kind"] == Kind.MERGE:
        _merge(imp, row, region, open_link, values)
    elif values["kind"] == Kind.REPARENT:
        _reparent(imp, row, region, open_link, values)
    if not row.skip:
        imp.upsert(row, m.RegionChange, values)


def _merge(imp: _Importer, row: Row, region: m.Region, link: m.RegionParentLink | None,
           values: dict[str, Any]) -> None:
    when: date = values["date"]
    successor = imp.index.get(m.Region, values.get("successor_id"))
    if successor is None:
        return
    if successor is region:
        row.issue("successor", "a region cannot be merged into itself")
        return
    if (successor.valid_from is not None and successor.valid_from > when) or (
            successor.valid_to is not None and successor.valid_to <= when):
        row.issue("successor", f"region {successor.code} does not exist on {when} "
                               f"(valid {successor.valid_from or '…'} to {successor.valid_to or '…'})")
    if row.skip:
        return
    if imp.change(row, region, {"valid_to": when, "successor_id": successor.id}) and link is not None:
        imp.change(row, link, {"valid_to": when}, lambda c: "date")


def _reparent(imp: _Importer, row: Row, region: m.Region, link: m.RegionParentLink | None,
              values: dict[str, Any]) -> None:
    when: date = values["date"]
    parent_id = values.get("parent_id")
    if parent_id is None:
        return
    if link is not None and link.valid_from == when:
        row.issue("date", f"region {region.code} already has a parent link starting on {when}")
    elif link is not None and link.parent_id == parent_id:
        row.issue("parent", f"is already the parent of region {region.code} on {when}")
    if row.skip:
        return
    until = link.valid_to if link is not None else None
    if link is not None and not imp.change(row, link, {"valid_to": when}, lambda c: "date"):
        return
    imp.upsert(row, m.RegionParentLink, {"region_id": region.id, "parent_id": parent_id, "valid_from": when,
                                         "valid_to": until}, lambda c: "parent")
