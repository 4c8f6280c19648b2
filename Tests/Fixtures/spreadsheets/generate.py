#!/usr/bin/env python3
"""Regenerates the spreadsheet fixtures with a real spreadsheet program (LibreOffice, headless).

    apt-get install libreoffice-calc      # Debian's package; CI does not need it
    python3 Tests/Fixtures/spreadsheets/generate.py

Writes, beside this script:
- book.xlsx: LibreOffice's .xlsx of three sheets: 项目登记 (one type, Chinese headers with
  units, a date-time cell, a date cell, a typed date text, a formula, booleans as cells and as
  是/否), 混合填报 (a 事件类型 column: several types in one sheet), 错误 (one bad cell per row).
- book-1904.xlsx: one registration in a workbook of the 1904 date system.
- book.ndjson, book-1904.ndjson: the same events as the sheets 项目登记 and 混合填报 hold, written by
  hand here (amounts converted to yuan with Python's Decimal), the truth the tests compare with.
- registered-utf8.csv (LibreOffice's CSV export of 项目登记), registered-gbk.csv (its GB18030 bytes)
  and registered-utf16.txt (UTF-16 with a byte order mark, tab-separated: Excel's "Unicode text").
"""
import csv, io, json, os, shutil, subprocess, sys, tempfile
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = "bt-office"

def cell(value=None, kind="string", style=None, formula=None, shown=None):
    return dict(value=value, kind=kind, style=style, formula=formula, shown=shown)

def s(text): return cell(text, "string")
def n(number, style=None, formula=None): return cell(number, "float", style, formula)
def dt(iso, style="ce_datetime"): return cell(iso, "date", style)
def b(flag): return cell(flag, "boolean")
E = None  # an empty cell

REGISTERED_HEADER = ["事件编号", "项目编号", "项目名称", "计划年度", "类别", "新开工", "总投资（万元）",
                     "当年计划投资（亿元）", "企业名称", "园区", "时间"]
REGISTERED = [
    [s("xl-reg-1"), s("BT2024-101"), s("年产10万台永磁电机项目（一期）"), n(2024), s("产业类、稀土永磁电机、稀土产业"),
     b(True), n(120000), n(3, formula="of:=[.G2]/10000/4"), s("中车尚驰"), s("稀土永磁电机产业园"),
     dt("2024-03-05T09:30:00")],
    [s("xl-reg-2"), s("BT2024-102"), s("稀土新材料项目"), n(2024), s("产业类;稀土新材料"), s("否"), n("57384.5"),
     n("0.8"), E, E, dt("2024-03-06T00:00:00", "ce_date")],
    [],
    [s("xl-reg-3"), s("BT2024-103"), s("道路改造工程"), n(2024), s("基础设施"), b(False), n(5590), n("0.2"),
     s("包头稀土高新区建设局"), E, s("2024/3/7 14:05")],
]

MIXED_HEADER = ["事件类型", "事件编号", "项目编号", "状态", "月份", "完成投资（万元）", "企业名称", "招商行动", "来访人数",
                "行业", "时间"]
MIXED = [
    [s("项目状态"), s("xl-mix-1"), s("BT2024-101"), s("已开工"), E, E, E, E, E, E, dt("2024-04-01T10:00:00")],
    [s("investment"), s("xl-mix-2"), s("BT2024-101"), E, dt("2024-04-01T00:00:00", "ce_month"), n("2500.25"), E, E, E, E,
     dt("2024-04-30T18:00:00")],
    [s("site_visit"), s("xl-mix-3"), E, E, E, E, s("北方稀土"), s("百日攻坚"), n(6), E, dt("2024-04-02T09:00:00")],
    [s("项目引进"), s("xl-mix-4"), s("BT2024-201"), E, E, E, s("某电机公司"), s("2024早春行动"), E, s("稀土永磁电机"),
     dt("2024-04-03T15:30:00")],
    [s("zone.recruitment.agreement_signed"), s("xl-mix-5"), E, E, E, E, s("某电机公司"), s("2024早春行动"), E, E,
     dt("2024-04-08T11:00:00")],
]

ERRORS = [  # one bad cell per row; the test names each cell
    [s("项目状态"), s("e-1"), s("BT2024-101"), s("已延期"), E, E, E, E, E, E, dt("2024-04-01T10:00:00")],      # D2
    [s("investment"), s("e-2"), s("BT2024-101"), E, s("2024-04"), n("0.00001"), E, E, E, E, dt("2024-04-30T18:00:00")],  # F3
    [s("site_visit"), s("e-3"), E, E, E, E, E, s("百日攻坚"), n(6), E, dt("2024-04-02T09:00:00")],             # G4
    [s("项目状态"), s("e-4"), s("BT2024-101"), s("已开工"), E, E, E, E, E, E, n(12)],                          # K5
    [s("其他"), s("e-5"), s("BT2024-101"), E, E, E, E, E, E, E, dt("2024-04-01T10:00:00")],                    # A6
    [s("investment"), s("e-6"), s("BT2024-101"), E, s("2024-05"), cell(None, "float", formula="of:=1/0"), E, E, E, E,
     dt("2024-05-31T18:00:00")],                                                                             # F7
]

def event(id, type, time, data):
    return {"specversion": "1.0", "id": id, "source": SOURCE, "type": type, "time": time, "data": data}

def yuan(amount, unit):
    value = Decimal(amount) * unit
    assert value == value.to_integral_value(), value
    return int(value)

WAN, YI = Decimal(10000), Decimal(100000000)
EXPECTED = [
    event("xl-reg-1", "zone.project.registered", "2024-03-05T09:30:00+08:00", {
        "project_id": "BT2024-101", "name": "年产10万台永磁电机项目（一期）", "plan_year": 2024,
        "categories": ["industrial", "pm_motor", "rare_earth"], "new_start": True,
        "total_investment": yuan("120000", WAN), "planned_investment": yuan("3", YI),
        "enterprise": "中车尚驰", "park": "稀土永磁电机产业园"}),
    event("xl-reg-2", "zone.project.registered", "2024-03-06T00:00:00+08:00", {
        "project_id": "BT2024-102", "name": "稀土新材料项目", "plan_year": 2024,
        "categories": ["industrial", "rare_earth_material"], "new_start": False,
        "total_investment": yuan("57384.5", WAN), "planned_investment": yuan("0.8", YI)}),
    event("xl-reg-3", "zone.project.registered", "2024-03-07T14:05:00+08:00", {
        "project_id": "BT2024-103", "name": "道路改造工程", "plan_year": 2024, "categories": ["infrastructure"],
        "new_start": False, "total_investment": yuan("5590", WAN), "planned_investment": yuan("0.2", YI),
        "enterprise": "包头稀土高新区建设局"}),
]
EXPECTED_MIXED = [
    event("xl-mix-1", "zone.project.status_changed", "2024-04-01T10:00:00+08:00", {"project_id": "BT2024-101", "status": "started"}),
    event("xl-mix-2", "zone.project.investment_reported", "2024-04-30T18:00:00+08:00", {
        "project_id": "BT2024-101", "period": "2024-04", "completed_investment": yuan("2500.25", WAN)}),
    event("xl-mix-3", "zone.recruitment.site_visit", "2024-04-02T09:00:00+08:00", {
        "enterprise": "北方稀土", "campaign": "百日攻坚", "visitors": 6}),
    event("xl-mix-4", "zone.recruitment.project_introduced", "2024-04-03T15:30:00+08:00", {
        "enterprise": "某电机公司", "campaign": "2024早春行动", "project_id": "BT2024-201", "industry": "pm_motor"}),
    event("xl-mix-5", "zone.recruitment.agreement_signed", "2024-04-08T11:00:00+08:00", {
        "enterprise": "某电机公司", "campaign": "2024早春行动"}),
]

STYLES = """
<office:automatic-styles>
 <number:date-style style:name="N_datetime"><number:year number:style="long"/><number:text>/</number:text><number:month/><number:text>/</number:text><number:day/><number:text> </number:text><number:hours/><number:text>:</number:text><number:minutes number:style="long"/></number:date-style>
 <number:date-style style:name="N_date"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/></number:date-style>
 <number:date-style style:name="N_month"><number:year number:style="long"/><number:text>年</number:text><number:month/><number:text>月</number:text></number:date-style>
 <style:style style:name="ce_datetime" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N_datetime"/>
 <style:style style:name="ce_date" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N_date"/>
 <style:style style:name="ce_month" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N_month"/>
</office:automatic-styles>
"""

def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

def cell_xml(c):
    if c is None:
        return "<table:table-cell/>"
    attrs = ""
    if c["style"]: attrs += f' table:style-name="{c["style"]}"'
    if c["formula"]: attrs += f' table:formula="{esc(c["formula"])}"'
    kind, value = c["kind"], c["value"]
    if kind == "string":
        return f'<table:table-cell{attrs} office:value-type="string"><text:p>{esc(value)}</text:p></table:table-cell>'
    if kind == "float":
        if value is None:
            return f"<table:table-cell{attrs}/>"
        return f'<table:table-cell{attrs} office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    if kind == "date":
        return f'<table:table-cell{attrs} office:value-type="date" office:date-value="{value}"><text:p>{value}</text:p></table:table-cell>'
    if kind == "boolean":
        v = "true" if value else "false"
        return f'<table:table-cell{attrs} office:value-type="boolean" office:boolean-value="{v}"><text:p>{v.upper()}</text:p></table:table-cell>'
    raise ValueError(kind)

def table_xml(name, header, rows):
    out = [f'<table:table table:name="{esc(name)}">', "<table:table-row>"]
    out += [cell_xml(s(h)) for h in header]
    out.append("</table:table-row>")
    for row in rows:
        out.append("<table:table-row>" + "".join(cell_xml(c) for c in row) + "</table:table-row>")
    out.append("</table:table>")
    return "\n".join(out)

def fods(tables, null_date=None):
    settings = ""
    if null_date:
        settings = f'<table:calculation-settings><table:null-date table:date-value="{null_date}"/></table:calculation-settings>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
{STYLES}
<office:body><office:spreadsheet>{settings}
{"".join(tables)}
</office:spreadsheet></office:body></office:document>
"""

def soffice(args, cwd):
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if not binary:
        sys.exit("LibreOffice is not installed: apt-get install libreoffice-calc")
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run([binary, f"-env:UserInstallation=file://{profile}", "--headless"] + args, cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)

def main():
    work = tempfile.mkdtemp(prefix="lode-fixtures-")
    try:
        with open(os.path.join(work, "book.fods"), "w", encoding="utf-8") as f:
            f.write(fods([table_xml("项目登记", REGISTERED_HEADER, REGISTERED), table_xml("混合填报", MIXED_HEADER, MIXED),
                          table_xml("错误", MIXED_HEADER, ERRORS)]))
        one = [REGISTERED[0][:7] + [n(3)] + REGISTERED[0][8:]]
        with open(os.path.join(work, "book-1904.fods"), "w", encoding="utf-8") as f:
            f.write(fods([table_xml("项目登记", REGISTERED_HEADER, one)], null_date="1904-01-01"))
        soffice(["--convert-to", "xlsx", "--outdir", work, "book.fods", "book-1904.fods"], work)
        # The first sheet as CSV, as LibreOffice writes it (UTF-8: character set 76).
        soffice(["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", work, "book.fods"], work)
        for name in ["book.xlsx", "book-1904.xlsx"]:
            shutil.copy(os.path.join(work, name), os.path.join(HERE, name))
        with open(os.path.join(work, "book.csv"), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(HERE, "registered-utf8.csv"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        with open(os.path.join(HERE, "registered-gbk.csv"), "wb") as f:
            f.write(text.replace("\n", "\r\n").encode("gb18030"))
        rows = list(csv.reader(io.StringIO(text)))
        tabbed = "".join("\t".join(row) + "\r\n" for row in rows)
        with open(os.path.join(HERE, "registered-utf16.txt"), "wb") as f:
            f.write(tabbed.encode("utf-16"))  # with a byte order mark, little-endian
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(HERE, "book.ndjson"), "w", encoding="utf-8") as f:
        for e in EXPECTED + EXPECTED_MIXED:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "book-1904.ndjson"), "w", encoding="utf-8") as f:
        f.write(json.dumps(EXPECTED[0], ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main()
