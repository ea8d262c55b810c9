"""The demo province's data files and the demo import document are correct without the importer.

Checks the derived administrative units (counts, codes, parents, NFC names, coordinates), the derived
reorganisation of 1/7/2025 (the 2025 units, a successor for every legacy commune, both re-derived), the demo
departments, the self-consistency of ``build_demo_document()`` (every reference resolves, addresses are
unique loopback addresses on the device's own interfaces, circuit ends sit on interfaces of devices at
that site, targets 22/10/230) and that the complete example in docs/inventory-format.md is consistent too.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from datetime import date
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory.demo import build_demo_document, load_departments, load_regions, load_reorg_2025
from tests.requirements import missing

ROOT = Path(__file__).resolve().parent.parent
FORMAT_DOC = ROOT / "docs" / "inventory-format.md"
AS_OF = date(2026, 11, 27)
BAC_GIANG_BOX = (21.10, 21.65, 105.85, 107.05)  # lat min/max, lon min/max, with a small margin
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CODE_LENGTH = {"province": 2, "district": 3, "commune": 5}
LEVEL_DEPTH = {"province": 0, "district": 1, "commune": 2}
DOCUMENT_KEYS = ["tags", "regions", "region_changes", "tenants", "sites", "locations", "racks",
                 "manufacturers", "device_types", "device_roles", "platforms", "snmp_profiles", "devices",
                 "providers", "circuit_types", "circuits", "vc_endpoints", "services", "coverage_targets"]
ENUMS = {
    ("sites", "category"): {"datacenter", "department", "district", "commune", "unit"},
    ("sites", "status"): {"planned", "staging", "active", "decommissioning", "retired"},
    ("devices", "status"): {"offline", "active", "planned", "staged", "failed", "inventory", "decommissioning"},
    ("circuits", "status"): {"planned", "provisioning", "active", "offline", "deprovisioning", "decommissioned"},
    ("region_changes", "kind"): {"merge", "reparent", "rename"},
    ("vc_endpoints", "protocol"): {"sip", "h323"},
    ("snmp_profiles", "version"): {"1", "2c", "3"},
}
INTERFACE_TYPES = {"virtual", "lag", "100base-tx", "1000base-t", "1000base-x-sfp", "10gbase-x-sfpp",
                   "25gbase-x-sfp28", "40gbase-x-qsfpp", "100gbase-x-qsfp28", "gpon", "other"}


def document_problems(doc: dict[str, Any]) -> list[str]:
    """Every broken rule of docs/inventory-format.md that can be checked without a database."""
    problems: list[str] = []
    unknown = set(doc) - set(DOCUMENT_KEYS)
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    rows = {key: doc.get(key) or [] for key in DOCUMENT_KEYS}

    def index(key: str, *fields: str) -> dict[Any, dict[str, Any]]:
        out: dict[Any, dict[str, Any]] = {}
        for row in rows[key]:
            natural = tuple(str(row[f]) for f in fields) if len(fields) > 1 else str(row[fields[0]])
            if natural in out:
                problems.append(f"{key}: duplicate natural key {natural}")
            out[natural] = row
        return out

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    for (key, field), allowed in ENUMS.items():
        for row in rows[key]:
            check(field not in row or str(row[field]) in allowed, f"{key}: {field}={row.get(field)!r}")
    tags = index("tags", "slug")
    regions = index("regions", "code")
    check(len({r["slug"] for r in rows["regions"]}) == len(rows["regions"]), "regions: duplicate slug")
    for r in rows["regions"]:
        check(r["code"].isdigit() and len(r["code"]) == CODE_LENGTH[r["level"]], f"region code {r['code']}")
        parent = regions.get(str(r.get("parent")))
        if r["level"] == "province":
            check(r.get("parent") is None, f"province {r['code']} has a parent")
        else:
            check(parent is not None and LEVEL_DEPTH[parent["level"]] < LEVEL_DEPTH[r["level"]],
                  f"region {r['code']}: bad parent {r.get('parent')}")
    for c in rows["region_changes"]:
        check(c["region"] in regions, f"region change of unknown region {c['region']}")
        if c["kind"] == "rename":
            check(bool(c.get("new_name")) and not c.get("successor") and not c.get("parent"),
                  f"region change {c}: a rename carries new_name only")
            continue
        target = c.get("successor") if c["kind"] == "merge" else c.get("parent")
        check(target in regions and target != c["region"], f"region change {c}: bad target")
    merged = {c["region"]: str(c["date"]) for c in rows["region_changes"] if c["kind"] == "merge"}
    for r in rows["regions"]:
        check(r.get("valid_to") in (None, merged.get(r["code"])), f"region {r['code']}: valid_to is not its merge")
    tenants = index("tenants", "slug")
    sites = index("sites", "slug")
    for s in rows["sites"]:
        check(SLUG.match(s["slug"]) is not None, f"site slug {s['slug']}")
        check(s.get("tenant") is None or s["tenant"] in tenants, f"site {s['slug']}: tenant {s.get('tenant')}")
        region = regions.get(str(s.get("region")))
        check(region is not None, f"site {s['slug']}: region {s.get('region')}")
        if region and s["category"] in ("district", "commune"):
            check(region["level"] == s["category"], f"site {s['slug']}: region level {region['level']}")
        check(set(s.get("tags", [])) <= set(tags), f"site {s['slug']}: undeclared tags {s.get('tags')}")
    locations = index("locations", "site", "slug")
    racks = index("racks", "site", "name")
    for rack in rows["racks"]:
        check(rack["site"] in sites and (rack["site"], rack.get("location")) in locations,
              f"rack {rack['name']}: site/location")
    manufacturers, roles = index("manufacturers", "slug"), index("device_roles", "slug")
    platforms, device_types = index("platforms", "slug"), index("device_types", "slug")
    snmp = index("snmp_profiles", "name")
    for t in rows["device_types"]:
        check(t["manufacturer"] in manufacturers, f"device type {t['slug']}: manufacturer")
    devices = index("devices", "site", "name")
    hosts: Counter[str] = Counter()
    for d in rows["devices"]:
        key = f"device {d['site']}/{d['name']}"
        check(d["site"] in sites and d["role"] in roles, f"{key}: site or role")
        check(d.get("device_type") is None or d["device_type"] in device_types, f"{key}: device type")
        check(d.get("platform") is None or d["platform"] in platforms, f"{key}: platform")
        check(d.get("rack") is None or (d["site"], d["rack"]) in racks, f"{key}: rack not at its site")
        parent = d.get("parent")
        check(parent is None or ((parent["site"], parent["name"]) in devices
                                 and (parent["site"], parent["name"]) != (d["site"], d["name"])),
              f"{key}: parent {parent}")
        monitoring = d.get("monitoring") or {}
        check(monitoring.get("snmp_profile") is None or monitoring["snmp_profile"] in snmp, f"{key}: snmp")
        check(not monitoring.get("enabled", True) or bool(d.get("primary_ip")), f"{key}: monitored without ip")
        interfaces = d.get("interfaces", [])
        check(len({i["name"] for i in interfaces}) == len(interfaces), f"{key}: duplicate interface")
        own = set()
        for i in interfaces:
            check(i.get("type", "1000base-t") in INTERFACE_TYPES, f"{key}: interface type {i.get('type')}")
            for ip in i.get("ip_addresses", []):
                iface = ipaddress.ip_interface(ip["address"])
                hosts[str(iface.ip)] += 1
                own.add(str(iface))
        check(d.get("primary_ip") is None or str(ipaddress.ip_interface(d["primary_ip"])) in own,
              f"{key}: primary_ip {d.get('primary_ip')} not on its interfaces")
    check(not [h for h, n in hosts.items() if n > 1], f"addresses used twice: {[h for h, n in hosts.items() if n > 1]}")
    tags_used = [t for d in rows["devices"] for t in d.get("tags", [])]
    check(set(tags_used) <= set(tags), "devices: undeclared tags")
    _check_parent_graph(rows["devices"], check)
    providers, circuit_types = index("providers", "slug"), index("circuit_types", "slug")
    index("circuits", "provider", "cid")
    ends: Counter[tuple[str, str, str]] = Counter()
    for c in rows["circuits"]:
        key = f"circuit {c['provider']}/{c['cid']}"
        check(c["provider"] in providers and c["type"] in circuit_types, f"{key}: provider or type")
        for side in ("a", "z"):
            end = c.get(side)
            if end is None:
                continue
            device = devices.get((end["site"], end.get("device")))
            check(end["site"] in sites and (end.get("device") is None or device is not None),
                  f"{key}: {side} end {end} is not a device at that site")
            if device is not None and end.get("interface") is not None:
                names = {i["name"] for i in device.get("interfaces", [])}
                check(end["interface"] in names, f"{key}: {side} interface {end['interface']} not on device")
                ends[(end["site"], end["device"], end["interface"])] += 1
    check(max(ends.values(), default=1) == 1, "an interface terminates two circuit ends")
    index("vc_endpoints", "device")
    for v in rows["vc_endpoints"]:
        device = devices.get((v["device"]["site"], v["device"]["name"]))
        check(device is not None and device["role"] == "vc-endpoint", f"vc endpoint {v['device']}: device")
        mcu = v.get("mcu") and devices.get((v["mcu"]["site"], v["mcu"]["name"]))
        check(v.get("mcu") is None or (mcu is not None and mcu["role"] == "mcu"), f"vc endpoint {v['device']}: mcu")
        if v["protocol"] == "sip":
            check(str(v.get("uri", "")).startswith("sip:"), f"vc endpoint {v['device']}: sip uri")
        else:
            check(str(v.get("e164", "")).isdigit() or bool(v.get("uri")), f"vc endpoint {v['device']}: e164")
    index("coverage_targets", "plan", "category")
    for t in rows["coverage_targets"]:
        check(t["category"] in {*ENUMS[("sites", "category")], "vc"} and int(t["target"]) >= 0, f"target {t}")
    return problems


def _check_parent_graph(devices: list[dict[str, Any]], check: Any) -> None:
    parent = {(d["site"], d["name"]): (d["parent"]["site"], d["parent"]["name"])
              for d in devices if d.get("parent")}
    for start in parent:
        seen, node = {start}, parent[start]
        while node in parent:
            check(node not in seen, f"parent cycle through {node}")
            if node in seen:
                break
            seen.add(node)
            node = parent[node]


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return build_demo_document(AS_OF)


def _example_from_format_doc() -> dict[str, Any]:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- example:begin -->")[1].split("<!-- example:end -->")[0]
    loaded: dict[str, Any] = yaml.safe_load(block.split("```yaml")[1].split("```")[0])
    return loaded


# --- the derived administrative units ---------------------------------------------------------------

def test_regions_file_has_ten_districts_and_192_communes() -> None:
    regions = load_regions()
    assert regions["province"]["code"] == "24"
    assert len(regions["districts"]) == 10
    assert len(regions["communes"]) == 192
    assert Counter(c["type"] for c in regions["communes"]) == {"xã": 143, "phường": 35, "thị trấn": 14}


def test_every_region_code_and_slug_is_unique_and_well_formed() -> None:
    regions = load_regions()
    units = [regions["province"], *regions["districts"], *regions["communes"]]
    assert len({u["code"] for u in units}) == len(units)
    assert len({u["slug"] for u in units}) == len(units)
    for unit in units:
        assert unit["code"].isdigit() and len(unit["code"]) == CODE_LENGTH[unit["level"]], unit
        assert SLUG.match(unit["slug"]), unit


def test_every_commune_hangs_under_one_of_the_districts() -> None:
    regions = load_regions()
    districts = {d["code"] for d in regions["districts"]}
    assert all(d["parent"] == "24" for d in regions["districts"])
    assert all(c["parent"] in districts for c in regions["communes"])
    assert {c["parent"] for c in regions["communes"]} == districts


def test_names_are_nfc_and_begin_with_their_unit_type() -> None:
    regions = load_regions()
    for unit in [regions["province"], *regions["districts"], *regions["communes"]]:
        for text in (unit["name"], unit["short_name"], unit["type"]):
            assert unicodedata.is_normalized("NFC", text), text
        assert unit["name"] == f"{unit['type'].capitalize()} {unit['short_name']}"


def test_coordinates_lie_inside_bac_giang() -> None:
    regions = load_regions()
    lat_min, lat_max, lon_min, lon_max = BAC_GIANG_BOX
    for unit in [regions["province"], *regions["districts"], *regions["communes"]]:
        assert lat_min <= unit["latitude"] <= lat_max and lon_min <= unit["longitude"] <= lon_max, unit


def test_regions_file_credits_its_mit_source() -> None:
    attribution = load_regions()["attribution"]
    assert attribution["package"] == "vietnamadminunits" and attribution["licence"] == "MIT"
    assert attribution["source_url"].startswith("https://github.com/")
    assert date.fromisoformat(attribution["derived_on"])
    assert (ROOT / "inventory" / "data" / "ATTRIBUTION.md").read_text(encoding="utf-8").count("MIT License") == 1


def test_regions_file_matches_a_fresh_derivation(tmp_path: Path) -> None:
    stored = load_regions()
    assert _rederive("derive_demo_regions.py", stored, tmp_path / "regions.json") == stored


def _rederive(tool: str, stored: dict[str, Any], out: Path) -> dict[str, Any]:
    try:
        distribution("vietnamadminunits")
    except PackageNotFoundError:
        missing("vietnamadminunits (the development-time source, in the [test] extra) is not installed")
    subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--out", str(out),
                    "--derived-on", stored["attribution"]["derived_on"]], check=True, capture_output=True)
    fresh: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return fresh


# --- the derived reorganisation of 1/7/2025 ---------------------------------------------------------

def test_reorg_units_are_well_formed_nfc_and_slugged_apart_from_the_legacy_units() -> None:
    reorg, legacy = load_reorg_2025(), load_regions()
    legacy_slugs = {u["slug"] for u in [legacy["province"], *legacy["districts"], *legacy["communes"]]}
    units = [reorg["province"], *reorg["communes"]]
    assert len({u["slug"] for u in units}) == len(units) and not {u["slug"] for u in units} & legacy_slugs
    lat_min, lat_max, lon_min, lon_max = BAC_GIANG_BOX
    for unit in units:
        assert unit["code"].isdigit() and len(unit["code"]) == CODE_LENGTH[unit["level"]], unit
        assert SLUG.match(unit["slug"]) and unicodedata.is_normalized("NFC", unit["name"]), unit
        assert unit["name"] == f"{unit['type'].capitalize()} {unit['short_name']}"
        assert lat_min <= unit["latitude"] <= lat_max and lon_min <= unit["longitude"] <= lon_max, unit
    assert all(c["parent"] == "24" and c["level"] == "commune" for c in reorg["communes"])


def test_reorg_file_credits_its_mit_source_and_attribution_md_describes_it() -> None:
    attribution = load_reorg_2025()["attribution"]
    assert attribution["package"] == "vietnamadminunits" and attribution["licence"] == "MIT"
    assert attribution["tables"] == ["admin_units", "admin_units_legacy"]
    assert "converter_2025.json" in attribution["mapping"] and date.fromisoformat(attribution["derived_on"])
    text = (ROOT / "inventory" / "data" / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "bac_giang_reorg_2025.json" in text and "tools/derive_demo_reorg_2025.py" in text


def test_reorg_file_matches_a_fresh_derivation(tmp_path: Path) -> None:
    stored = load_reorg_2025()
    assert _rederive("derive_demo_reorg_2025.py", stored, tmp_path / "reorg.json") == stored


def test_departments_file_lists_22_departments_marked_as_demo() -> None:
    departments = load_departments()
    assert len(departments) == 22
    assert len({d["slug"] for d in departments}) == 22
    assert all(SLUG.match(d["slug"]) and unicodedata.is_normalized("NFC", d["name"]) for d in departments)
    about = json.loads((ROOT / "inventory/data/bac_giang_departments.json").read_text(encoding="utf-8"))["about"]
    assert about["demo"] is True


# --- the demo document ------------------------------------------------------------------------------

def test_demo_document_is_self_consistent(demo: dict[str, Any]) -> None:
    assert list(demo) == DOCUMENT_KEYS
    assert document_problems(demo) == []


def test_demo_document_is_deterministic_and_json_serialisable(demo: dict[str, Any]) -> None:
    assert json.dumps(build_demo_document(AS_OF), ensure_ascii=False) == json.dumps(demo, ensure_ascii=False)


def test_every_primary_ip_is_a_unique_loopback_address_on_its_own_device(demo: dict[str, Any]) -> None:
    loopback = ipaddress.ip_network("127.0.0.0/8")
    primaries = [ipaddress.ip_interface(d["primary_ip"]) for d in demo["devices"]]
    assert all(p.ip in loopback for p in primaries)
    assert len({p.ip for p in primaries}) == len(demo["devices"])
    all_hosts = [ipaddress.ip_interface(ip["address"]).ip for d in demo["devices"]
                 for i in d["interfaces"] for ip in i["ip_addresses"]]
    assert all(h in loopback for h in all_hosts) and len(set(all_hosts)) == len(all_hosts)


def test_only_the_two_dc_core_routers_poll_snmp(demo: dict[str, Any]) -> None:
    with_snmp = [d["name"] for d in demo["devices"] if d["monitoring"].get("snmp_profile")]
    assert with_snmp == ["dc-core-01", "dc-core-02"]
    assert demo["snmp_profiles"] == [{"name": "demo-v2c", "version": "2c", "community": "public"}]
    assert {d["monitoring"]["poller_group"] for d in demo["devices"]} == {"default"}


def test_every_department_district_and_commune_has_a_site(demo: dict[str, Any]) -> None:
    categories = Counter(s["category"] for s in demo["sites"])
    assert categories == {"datacenter": 1, "department": 22, "district": 10, "commune": 192}
    commune_sites = {s["region"] for s in demo["sites"] if s["category"] == "commune"}
    assert commune_sites == {c["code"] for c in load_regions()["communes"]}
    dc = [d for d in demo["devices"] if d["site"] == "dc-bac-giang"]
    assert Counter(d["role"] for d in dc) == {"router": 4, "firewall": 2, "switch": 4, "server": 6, "ups": 2,
                                              "mcu": 1}


def test_coverage_targets_are_22_10_230_for_the_2019_plan(demo: dict[str, Any]) -> None:
    targets = {(t["plan"], t["category"]): t["target"] for t in demo["coverage_targets"]}
    assert targets == {("KH-59-2019", "department"): 22, ("KH-59-2019", "district"): 10,
                       ("KH-59-2019", "commune"): 230, ("KH-59-2019", "vc"): 4 + 10 + 230}


def test_circuits_follow_the_planned_tiers(demo: dict[str, Any]) -> None:
    category = {s["slug"]: s["category"] for s in demo["sites"]}
    tiers = Counter((category[c["z"]["site"]], c["provider"], c["type"], c["commit_rate_kbps"],
                     category[c["a"]["site"]] if "a" in c else None) for c in demo["circuits"])
    assert tiers[("department", "vnpt", "wan", 100_000, "datacenter")] == 22
    assert tiers[("district", "vnpt", "tslcd", 1_000_000, "datacenter")] == 10
    assert tiers[("commune", "vnpt", "tslcd", 200_000, "district")] >= 3
    assert tiers[("commune", "vnpt", "tslcd", 100_000, "district")] + \
        tiers[("commune", "vnpt", "tslcd", 200_000, "district")] == 192 - 5
    district_uplinks = {c["a"]["device"] for c in demo["circuits"] if category[c["z"]["site"]] == "district"}
    assert district_uplinks == {"dc-core-01", "dc-core-02"}
    # Two upstream circuits into the data center, from two providers, one per core router (no A end of ours).
    dc_uplinks = {(c["provider"], c["z"]["device"]) for c in demo["circuits"] if "a" not in c}
    assert dc_uplinks == {("vnpt", "dc-core-01"), ("viettel", "dc-core-02")}
    assert tiers[("datacenter", "vnpt", "internet", 1_000_000, None)] == 1


def test_some_communes_have_a_second_uplink_from_another_provider(demo: dict[str, Any]) -> None:
    uplinks: dict[str, list[dict[str, Any]]] = {}
    for c in demo["circuits"]:
        if "a" in c:
            uplinks.setdefault(c["z"]["site"], []).append(c)
    dual = {site: cs for site, cs in uplinks.items() if len(cs) > 1}
    assert len(dual) >= 3
    for circuits in dual.values():
        assert {c["provider"] for c in circuits} == {"vnpt", "viettel"}
        assert len({(c["a"]["site"], c["a"]["device"]) for c in circuits}) == 2


def test_planned_sites_have_no_circuit_and_are_not_monitored(demo: dict[str, Any]) -> None:
    planned = {s["slug"] for s in demo["sites"] if s["status"] == "planned"}
    assert len(planned) == 5
    assert not [c for c in demo["circuits"] if c["z"]["site"] in planned]
    for device in (d for d in demo["devices"] if d["site"] in planned):
        assert device["status"] == "planned" and device["monitoring"]["enabled"] is False


def test_every_commune_and_district_has_a_videoconference_endpoint_on_the_mcu(demo: dict[str, Any]) -> None:
    category = {s["slug"]: s["category"] for s in demo["sites"]}
    endpoints = Counter(category[v["device"]["site"]] for v in demo["vc_endpoints"])
    assert endpoints["commune"] == 192 and endpoints["district"] == 10 and endpoints["department"] >= 15
    assert {(v["mcu"]["site"], v["mcu"]["name"]) for v in demo["vc_endpoints"]} == {("dc-bac-giang", "dc-mcu-01")}


def test_as_of_the_plan_date_no_commune_is_connected_yet() -> None:
    doc = build_demo_document(date(2019, 3, 29))
    assert document_problems(doc) == []
    status = Counter((s["category"], s["status"]) for s in doc["sites"])
    assert status[("commune", "planned")] == 192
    assert status[("department", "active")] == 22 and status[("district", "active")] == 10
    assert len(doc["circuits"]) == 22 + 10 + 1      # departments, districts, the VNPT uplink into the DC (2016)


def test_the_runtime_never_imports_vietnamadminunits() -> None:
    code = ("import sys; from inventory.demo import build_demo_document; build_demo_document();"
            "sys.exit('vietnamadminunits' in sys.modules)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# --- the format document --------------------------------------------------------------------------

def test_format_doc_example_uses_every_model_and_is_self_consistent() -> None:
    example = _example_from_format_doc()
    assert list(example) == DOCUMENT_KEYS
    assert document_problems(example) == []


def test_checker_reports_a_primary_ip_that_is_not_on_the_device() -> None:
    example = _example_from_format_doc()
    example["devices"][0]["primary_ip"] = "127.99.0.1/32"
    assert document_problems(example) == ["device dc-bac-giang/dc-core-01: primary_ip 127.99.0.1/32 not on its "
                                          "interfaces"]
