"""Inventory import benchmark: the demo province, and a synthetic 10,000-site inventory (rows per second).

Ours: ``inventory.importer.import_document`` into a fresh SQLite file (schema by alembic), with every
validation rule, natural-key upsert and change-log entry, then the same document again (a no-op).
Peer: the sqlite3 command-line shell loading the same rows from CSV with ``.import`` into tables of the
same columns and no validation: the floor of what loading those rows can cost on this machine.

    .venv/bin/python bench/bench_import.py [--sites 10000]
"""

from __future__ import annotations

import argparse
import csv
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from bench._common import machine_facts, print_table, ratio  # noqa: E402
from infra_monitor.db import make_engine, upgrade  # noqa: E402
from inventory.demo import build_demo_document  # noqa: E402
from inventory.importer import import_document  # noqa: E402


def synthetic_document(n_sites: int, districts: int = 100) -> dict[str, Any]:
    regions = [{"code": "99", "name": "Tỉnh Thử", "slug": "tinh-thu", "level": "province"}]
    sites, devices, circuits = [], [], []
    for d in range(districts):
        code = f"{900 + d}"
        regions.append({"code": code, "name": f"Huyện {d}", "slug": f"huyen-{d}", "level": "district", "parent": "99"})
        sites.append({"slug": f"h-{d}", "name": f"Huyện {d}", "category": "district", "region": code})
        devices.append({"site": f"h-{d}", "name": f"rt-h{d}", "role": "router", "primary_ip": f"10.{d}.0.1/32",
                        "interfaces": [{"name": "up0"}, {"name": "down0", "speed_kbps": 1_000_000},
                                       {"name": "lo", "ip_addresses": [{"address": f"10.{d}.0.1/32"}]}]})
    for i in range(n_sites):
        d = i % districts
        code = f"{80000 + i}"
        ip = f"10.{100 + i // 65000}.{(i // 250) % 256}.{i % 250 + 1}"
        regions.append({"code": code, "name": f"Xã Thử Nghiệm {i}", "slug": f"xa-{i}", "level": "commune",
                        "parent": f"{900 + d}"})
        sites.append({"slug": f"x-{i}", "name": f"UBND xã Thử Nghiệm {i}", "category": "commune", "region": code,
                      "latitude": 21.0 + (i % 100) / 100, "longitude": 106.0 + (i // 100 % 100) / 100})
        devices.append({"site": f"x-{i}", "name": f"rt-x{i}", "role": "router", "primary_ip": f"{ip}/32",
                        "interfaces": [{"name": "up0", "speed_kbps": 100_000},
                                       {"name": "lo", "ip_addresses": [{"address": f"{ip}/32"}]}]})
        circuits.append({"provider": "vnpt", "cid": f"SYN-{i:06d}", "type": "tslcd", "status": "active",
                         "commit_rate_kbps": 100_000,
                         "a": {"site": f"h-{d}", "device": f"rt-h{d}", "interface": "down0"},
                         "z": {"site": f"x-{i}", "device": f"rt-x{i}", "interface": "up0"}})
    return {"regions": regions, "sites": sites, "device_roles": [{"slug": "router", "name": "Router"}],
            "providers": [{"slug": "vnpt", "name": "VNPT"}], "circuit_types": [{"slug": "tslcd", "name": "TSLCD"}],
            "devices": devices, "circuits": circuits}


def count_rows(doc: dict[str, Any]) -> int:
    n = 0
    for key, rows in doc.items():
        n += len(rows)
        if key == "devices":
            for dev in rows:
                n += len(dev.get("interfaces", []))
                n += sum(len(i.get("ip_addresses", [])) for i in dev.get("interfaces", []))
        if key == "circuits":
            n += 2 * len(rows)  # terminations
    return n


def ours(doc: dict[str, Any], tmp: Path, name: str) -> tuple[float, float]:
    engine = make_engine(f"sqlite:///{tmp / name}.db")
    upgrade(engine)
    with Session(engine) as s:
        t0 = time.perf_counter()
        report = import_document(s, doc, source=name)
        first = time.perf_counter() - t0
        assert report.ok, report.errors[:5]
    with Session(engine) as s:
        t0 = time.perf_counter()
        again = import_document(s, doc, source=name)
        second = time.perf_counter() - t0
        assert again.ok and again.total("created") == 0 and again.total("updated") == 0
    engine.dispose()
    return first, second


def flat_tables(doc: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The same rows as plain CSV tables (what the peer loads)."""
    t: dict[str, tuple[list[str], list[list[Any]]]] = {
        "region": (["code", "name", "slug", "level", "parent"], []),
        "site": (["slug", "name", "category", "region", "latitude", "longitude"], []),
        "device": (["site", "name", "role", "primary_ip"], []),
        "interface": (["site", "device", "name", "speed_kbps"], []),
        "ip_address": (["site", "device", "interface", "address"], []),
        "circuit": (["provider", "cid", "type", "status", "commit_rate_kbps"], []),
        "circuit_termination": (["provider", "cid", "side", "site", "device", "interface"], []),
    }
    for r in doc["regions"]:
        t["region"][1].append([r["code"], r["name"], r["slug"], r["level"], r.get("parent", "")])
    for s in doc["sites"]:
        t["site"][1].append([s["slug"], s["name"], s["category"], s["region"], s.get("latitude"), s.get("longitude")])
    for d in doc["devices"]:
        t["device"][1].append([d["site"], d["name"], d["role"], d["primary_ip"]])
        for i in d["interfaces"]:
            t["interface"][1].append([d["site"], d["name"], i["name"], i.get("speed_kbps")])
            for a in i.get("ip_addresses", []):
                t["ip_address"][1].append([d["site"], d["name"], i["name"], a["address"]])
    for c in doc.get("circuits", []):
        t["circuit"][1].append([c["provider"], c["cid"], c["type"], c["status"], c["commit_rate_kbps"]])
        for side in ("a", "z"):
            e = c[side]
            t["circuit_termination"][1].append([c["provider"], c["cid"], side.upper(), e["site"], e["device"],
                                                e["interface"]])
    return t


def peer(doc: dict[str, Any], tmp: Path) -> float:
    tables = flat_tables(doc)
    script = []
    for name, (cols, rows) in tables.items():
        path = tmp / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            w.writerows(rows)
        script.append(f"CREATE TABLE {name} ({', '.join(cols)});")
        script.append(f".import --csv --skip 1 {path} {name}")
    db = tmp / "peer.db"
    t0 = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input="\n".join(script), text=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows_out = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as d:
        tmp = Path(d)
        for label, doc in (("demo province", build_demo_document()),
                           (f"synthetic {args.sites:,} sites", synthetic_document(args.sites))):
            n = count_rows(doc)
            first, again = ours(doc, tmp, label.split()[0])
            peer_s = peer(doc, tmp)
            (tmp / "peer.db").unlink()
            rows_out.append([label, f"{n:,}", f"{first:.2f} s ({n / first:,.0f} rows/s)", f"{again:.2f} s",
                             f"{peer_s:.2f} s ({n / peer_s:,.0f} rows/s)", ratio(first, peer_s)])
    print_table("Inventory import (SQLite): validated upsert with change log vs sqlite3 .import of the same rows",
                ["document", "rows", "infra-monitor import", "re-import (no-op)", "sqlite3 .import (peer)",
                 "ratio"], rows_out)
    for k, v in machine_facts(with_pg=False):
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
