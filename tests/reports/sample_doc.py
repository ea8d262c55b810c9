"""A realistic :class:`ReportDocument` built by hand, for the renderer tests.

It carries what the renderers must get right: Vietnamese names given decomposed (NFD) that must come out
NFC, names that spreadsheets would read as formulas, a DURATION, a PCT that is not measurable (None), an
ENUM, a DATETIME just before midnight UTC (the next day in GMT+7), a negative INT, a 200-row table (several
pdf pages) and two charts (one zoomed 90–100 % with a 99 % threshold, one with two series).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

from infra_monitor.reports.document import (
    Chart,
    ChartSeries,
    Column,
    ColumnType,
    ReportDocument,
    ReportHeader,
    ReportKind,
    Section,
    SummaryItem,
    Table,
    t,
)

INJECTIONS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tX", "\rY"]
NFD_NAME = unicodedata.normalize("NFD", "Xã Đồng Tâm")
NFC_NAME = unicodedata.normalize("NFC", "Xã Đồng Tâm")
NEAR_MIDNIGHT = datetime(2026, 12, 14, 17, 30, tzinfo=UTC)  # 15/12/2026 00:30 GMT+7
GENERATED_AT = datetime(2027, 1, 4, 20, 0, tzinfo=UTC)      # 05/01/2027 03:00 GMT+7
ROWS = 200

_COMMUNES = ["Xã Tân Sơn", "Xã Cẩm Lý", "Thị trấn Cầu Gồ", "Xã Phồn Xương", "Xã Nghĩa Hưng", "Xã Hương Vĩ",
             "Xã Đồng Kỳ", "Xã Quế Nham", "Xã Tiến Dũng", "Thị trấn Thắng", "Xã Lục Sơn", "Xã Vô Tranh",
             "Xã Ngọc Châu", "Xã Xuân Hương", "Xã Bắc Lũng", "Phường Hoàng Văn Thụ"]
_DISTRICTS = ["Yên Thế", "Lục Nam", "Lục Ngạn", "Sơn Động", "Lạng Giang", "Tân Yên", "Hiệp Hòa", "Việt Yên",
              "Yên Dũng", "TP Bắc Giang"]
LEVELS = {"province": t("Cấp tỉnh", "Province"), "district": t("Cấp huyện", "District"),
          "commune": t("Cấp xã", "Commune")}


def _name(i: int) -> str:
    if i < len(INJECTIONS):
        return INJECTIONS[i]
    if i == len(INJECTIONS):
        return NFD_NAME
    base = _COMMUNES[i % len(_COMMUNES)]
    return unicodedata.normalize("NFD", f"{base} {i}") if i % 3 == 0 else f"{base} {i}"


def site_rows(n: int = ROWS) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({
            "name": _name(i),
            "district": _DISTRICTS[i % len(_DISTRICTS)],
            "level": "commune" if i % 20 else "district",
            "availability": None if i == 1 else round(100 - (i % 17) * 0.37, 2),
            "downtime": (i % 17) * 1000 + 5 * (i == 0) + 3725 * (i == 2),
            "last_down": NEAR_MIDNIGHT if i == 0 else NEAR_MIDNIGHT - timedelta(hours=i * 3 + 1),
            "online": i % 7 != 3,
            "rate": 1234.5 + i,
            "delta": -2 if i == 0 else i % 5,
        })
    return rows


def sample_doc(rows: int = ROWS) -> ReportDocument:
    header = ReportHeader(
        kind=ReportKind.AVAILABILITY,
        title=t("Báo cáo tình trạng hoạt động mạng truyền số liệu chuyên dùng tháng 12/2026",
                "Availability of the specialised data network, December 2026"),
        province="Bắc Giang",
        issuer=t(unicodedata.normalize("NFD", "Sở Thông tin và Truyền thông"),
                 "Department of Information and Communications"),
        issuer_parent=t("UBND tỉnh Bắc Giang", "Bac Giang Provincial People's Committee"),
        place="Bắc Giang",
        generated_at=GENERATED_AT,
        period_start=datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
        period_end=datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
        measured_until=datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
        as_of=date(2026, 12, 1),
        parameters={"levels": ["district", "commune"], "threshold_pct": 99, "include_maintenance": False},
        recipients=["UBND tỉnh (b/c);", "Các sở, ban, ngành;", "UBND các huyện, thành phố;", "Lưu: VT, TTCNTT."],
    )
    columns = [
        Column(key="name", label=t("Tên điểm", "Site"), type=ColumnType.TEXT),
        Column(key="district", label=t("Huyện", "District")),
        Column(key="level", label=t("Cấp", "Level"), type=ColumnType.ENUM, choices=LEVELS),
        Column(key="availability", label=t("Khả dụng", "Availability"), type=ColumnType.PCT),
        Column(key="downtime", label=t("Thời gian gián đoạn", "Downtime"), type=ColumnType.DURATION),
        Column(key="last_down", label=t("Lần mất kết nối cuối", "Last down"), type=ColumnType.DATETIME),
        Column(key="online", label=t("Đang hoạt động", "Online"), type=ColumnType.BOOL),
        Column(key="rate", label=t("Lưu lượng TB", "Mean rate"), type=ColumnType.RATE),
        Column(key="delta", label=t("Thay đổi thiết bị", "Device change"), type=ColumnType.INT),
    ]
    data = site_rows(rows)
    sites = Table(key="sites", title=t("Tình trạng hoạt động của các điểm cấp xã và cấp huyện",
                                       "Availability of the commune and district sites"),
                  description=t("Khả dụng tính trên thời gian đo được.", "Availability over the measured time."),
                  columns=columns, rows=data,
                  total={"name": "Tổng cộng", "downtime": sum(r["downtime"] for r in data),
                         "delta": sum(r["delta"] for r in data)})
    dist_cols = [Column(key="district", label=t("Huyện", "District")),
                 Column(key="sites", label=t("Số điểm", "Sites"), type=ColumnType.INT),
                 Column(key="availability", label=t("Khả dụng", "Availability"), type=ColumnType.PCT),
                 Column(key="as_of", label=t("Ngày", "Date"), type=ColumnType.DATE)]
    dist_av = [99.95, 99.5, 98.2, 97.1, 99.99, 99.2, None, 99.7, 99.0, 100.0]
    districts = Table(key="districts", title=t("Khả dụng theo huyện", "Availability by district"),
                      columns=dist_cols,
                      rows=[{"district": d, "sites": 20 + i, "availability": dist_av[i], "as_of": date(2026, 12, 1)}
                            for i, d in enumerate(_DISTRICTS)])
    charts = [
        Chart(key="availability", title=t("Khả dụng theo huyện", "Availability by district"), unit="%",
              labels=_DISTRICTS, series=[ChartSeries(name=t("Khả dụng", "Availability"), values=dist_av)],
              references=[(t("Ngưỡng", "Threshold"), 99.0)], value_min=90, value_max=100),
        Chart(key="traffic", title=t("Lưu lượng trung bình theo huyện", "Mean traffic by district"), unit="kbit/s",
              labels=_DISTRICTS[:6],
              series=[ChartSeries(name=t("Chiều vào", "In"), values=[820, 1500, 300, 95.5, 2100, 640]),
                      ChartSeries(name=t("Chiều ra", "Out"), values=[410, 700, None, 60, 1800, 320])]),
    ]
    return ReportDocument(
        header=header,
        summary=[
            SummaryItem(key="sites", label=t("Tổng số điểm", "Sites"), value=rows, type=ColumnType.INT),
            SummaryItem(key="coverage", label=t("Tỷ lệ kết nối", "Coverage"), value=98.66, type=ColumnType.PCT),
            SummaryItem(key="availability", label=t("Khả dụng toàn mạng", "Network availability"), value=None,
                        type=ColumnType.PCT),
            SummaryItem(key="downtime", label=t("Tổng thời gian gián đoạn", "Total downtime"), value=3900,
                        type=ColumnType.DURATION),
            SummaryItem(key="level", label=t("Cấp thấp nhất", "Lowest level"), value="commune",
                        type=ColumnType.ENUM, choices=LEVELS),
            SummaryItem(key="measured", label=t("Đã đo đủ", "Fully measured"), value=True, type=ColumnType.BOOL),
            SummaryItem(key="first_down", label=t("Sự cố đầu tiên", "First outage"), value=NEAR_MIDNIGHT,
                        type=ColumnType.DATETIME),
        ],
        notes=[t("Khả dụng toàn mạng không đo được do thiếu số liệu của huyện Hiệp Hòa.",
                 "Network availability is not measurable: Hiep Hoa district has no data."),
               t(unicodedata.normalize("NFD", "Thời gian bảo trì theo kế hoạch không tính là gián đoạn."),
                 "Planned maintenance is not counted as downtime.")],
        sections=[
            Section(title=t("I. Tình hình chung", "I. Overview"),
                    paragraphs=[t("Trong tháng 12/2026, mạng truyền số liệu chuyên dùng của tỉnh hoạt động ổn định; "
                                  "các điểm cấp xã được giám sát liên tục bằng ICMP và SNMP, số liệu được tổng hợp "
                                  "theo từng huyện như bảng và biểu đồ dưới đây.",
                                  "In December 2026 the province's specialised data network ran steadily; commune "
                                  "sites were monitored continuously by ICMP and SNMP, summarised per district "
                                  "below.")],
                    tables=["districts"], charts=["availability", "traffic"]),
            Section(title=t("II. Chi tiết theo điểm", "II. Sites in detail"),
                    paragraphs=[t("Chi tiết từng điểm được liệt kê dưới đây.", "Every site is listed below.")],
                    tables=["sites"]),
        ],
        tables=[districts, sites],
        charts=charts,
    )
