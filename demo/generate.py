#!/usr/bin/env python3
"""Writes demo/baotou-2024.ndjson: a deterministic demo data set for Lodestone.

The events reproduce the 2024 figures of the seed article on the Baotou
rare-earth high-tech zone (71 major projects, 573.84亿元 total, 318.3亿元
planned this year, 61 industrial, 42 industrial new starts of 1亿元 or more,
32 strategic-emerging new starts (+14.29% on 2023's 28), 34 rare-earth,
25 rare-earth new starts of 1亿元 or more (+56.25% on 2023's 16),
904 enterprises contacted, 276 site visits, 17 agreements signed), together
with the 2023 projects behind the growth figures and the things that must not
count: non-major and cancelled projects, a project moved to 2025, a duplicate
contact, a second agreement by the same enterprise, a recruitment event just
before the zone's new year. Names, parks and notes are in Simplified Chinese, as
the zone writes them (the seed article was republished in Traditional characters).

Deterministic: no clock, no `random` module (its algorithms may change
between Python versions); a SplitMix64 generator with a fixed seed. Running
it twice gives the same bytes. Python 3.11+, standard library only.

    python3 demo/generate.py            # writes demo/baotou-2024.ndjson
    python3 demo/generate.py --check    # fails unless the file is up to date
"""

import json
import sys
from datetime import datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "baotou-2024.ndjson"
M = 1_000_000  # amounts are generated in millions of yuan (0.01亿元)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def between(self, low, high):
        return low + self.below(high - low + 1)

    def choice(self, items):
        return items[self.below(len(items))]

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


rng = SplitMix64(20240505)

SOURCES = {
    "plan": "bt-hitech/development-reform-bureau",
    "build": "bt-hitech/project-construction-office",
    "stats": "bt-hitech/statistics-bureau",
    "recruit": "bt-hitech/investment-promotion-bureau",
}
SPRING = "招商引资“2024早春行动”"
HUNDRED_DAYS = "稀土永磁电机产业招商“百日攻坚”行动"
AUTUMN_2023 = "2023年秋季精准招商行动"
PARKS = ["稀土永磁电机产业园", "稀土新材料产业园", "希望工业园区", "滨河新区", "稀土应用产业园"]

REGIONS = ["宁波", "苏州", "常州", "无锡", "杭州", "深圳", "广州", "重庆", "成都", "西安", "天津", "北京",
           "上海", "青岛", "济南", "合肥", "武汉", "长沙", "赣州", "厦门", "福州", "南京", "郑州", "沈阳",
           "大连", "包头", "呼和浩特", "太原", "温州", "台州"]
STEMS = ["华磁", "中科", "金力", "正海", "英洛", "宁磁", "韵升", "大地", "瑞科", "恒通", "新动", "远景",
         "驰宇", "天和", "锐能", "博威", "凯创", "鼎盛", "智电", "永达", "盛泰", "宏远", "信达", "泰丰",
         "华宇", "东磁", "中兴", "海天", "长风", "星源"]
SUFFIXES = ["电机有限公司", "磁业股份有限公司", "驱动技术有限公司", "新材料科技有限公司", "电气有限公司",
            "智能装备有限公司", "动力科技有限公司", "机电有限公司"]

events = []
counter = {}


def stamp(year, month, day, hour=9, minute=0, second=0, offset="+08:00"):
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{offset}"


ID_TAGS = {
    "project.registered": "reg", "project.status_changed": "status", "project.investment_reported": "inv",
    "recruitment.enterprise_contacted": "contact", "recruitment.site_visit": "visit",
    "recruitment.agreement_signed": "agreement", "recruitment.project_introduced": "intro",
}


def add(kind, source, time, data):
    counter[kind] = counter.get(kind, 0) + 1
    event_id = f"bt-demo-{ID_TAGS[kind]}-{counter[kind]:04d}"
    events.append({
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCES[source],
        "type": f"zone.{kind}",
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    })
    return event_id


def registration(p, time):
    data = {
        "project_id": p["id"],
        "name": p["name"],
        "plan_year": p["year"],
        "categories": p["categories"],
        "new_start": p["new_start"],
        "total_investment": p["total"],
        "planned_investment": p["planned"],
        "major": p.get("major", True),
    }
    if p.get("enterprise"):
        data["enterprise"] = p["enterprise"]
    data["park"] = p["park"]
    if p.get("capacity"):
        data["capacity"] = p["capacity"]
    add("project.registered", "plan", time, data)


def enterprise_names(count):
    combos = [r + s + x for r in REGIONS for s in STEMS for x in SUFFIXES]
    rng.shuffle(combos)
    return combos[:count]


# ---------------------------------------------------------------- projects

RE_PRODUCTS = [("高性能烧结钕铁硼永磁材料", "吨", "rare_earth_material"), ("稀土抛光粉", "吨", "rare_earth_material"),
               ("稀土储氢合金", "吨", "rare_earth_material"), ("稀土金属及合金", "吨", "rare_earth_material"),
               ("钕铁硼磁材毛坯", "吨", "rare_earth_material"), ("稀土永磁同步电机", "万台", "pm_motor"),
               ("稀土永磁伺服电机", "万台", "pm_motor"), ("永磁电机转子组件", "万套", "pm_motor"),
               ("稀土催化材料", "吨", None), ("稀土荧光材料", "吨", None)]
SE_PRODUCTS = [("单晶硅棒", "GW"), ("光伏组件", "GW"), ("风电主机", "台"), ("氢燃料电池电堆", "套"),
               ("储能电池系统", "GWh"), ("新能源汽车电驱系统", "万套"), ("碳化硅衬底", "万片")]
INDUSTRIAL_PRODUCTS = [("高端铝合金型材", "万吨"), ("特种钢材精深加工", "万吨"), ("化工新材料", "万吨"),
                       ("工程机械零部件", "万件"), ("精密铸件", "万吨")]
INFRASTRUCTURE = ["稀土永磁电机产业园道路工程", "稀土永磁电机产业园供排水管网工程", "稀土新材料产业园标准化厂房建设项目",
                  "滨河新区供热管网改造工程", "高新区污水处理厂提标改造工程", "希望工业园区220千伏变电站工程",
                  "稀土科创中心建设项目", "高新区人才公寓建设项目", "稀土产业物流园建设项目", "稀土应用产业园绿化亮化工程"]


def short(enterprise):
    for suffix in SUFFIXES:
        if enterprise.endswith(suffix):
            return enterprise[: -len(suffix)]
    return enterprise


def make_project(pid, year, group, owner, new_start, total, planned, strategic):
    if group in ("A", "C"):
        product, unit, sub = rng.choice(RE_PRODUCTS)
        amount = rng.between(1, 50) * (100 if unit == "吨" else 1)
        name = f"{short(owner)}年产{amount}{unit}{product}项目"
        categories = ["industrial"] + (["strategic_emerging"] if strategic else []) + ["rare_earth"]
        if sub:
            categories.append(sub)
        capacity = f"年产{amount}{unit}"
    elif group in ("B", "D") and strategic:
        product, unit = rng.choice(SE_PRODUCTS)
        amount = rng.between(1, 20)
        name = f"{short(owner)}年产{amount}{unit}{product}项目"
        categories = ["industrial", "strategic_emerging"]
        capacity = f"年产{amount}{unit}"
    elif group in ("B", "D"):
        product, unit = rng.choice(INDUSTRIAL_PRODUCTS)
        amount = rng.between(1, 30)
        name = f"{short(owner)}年产{amount}{unit}{product}项目"
        categories = ["industrial"]
        capacity = f"年产{amount}{unit}"
    else:
        name, categories, capacity, owner = None, ["infrastructure"], None, None
    if not new_start and name:
        name = name.replace("项目", "续建项目")
    return {"id": pid, "year": year, "name": name, "categories": categories, "new_start": new_start,
            "total": total, "planned": planned, "enterprise": owner, "park": rng.choice(PARKS),
            "capacity": capacity}


def amounts(low, high, share_low, share_high):
    total = rng.between(low, high) * M
    planned = total * rng.between(share_low, share_high) // 100 // M * M
    return total, planned


owners = enterprise_names(1_200)
owner_index = 0


def next_owner():
    global owner_index
    owner_index += 1
    return owners[owner_index - 1]


def plan_2024():
    """The 71 major projects of 2024 that count, and their groups."""
    plan = []
    # A: 25 rare-earth industrial new starts of 1亿元 or more, 20 strategic emerging.
    named = [
        ("重庆驱创", "重庆驱创年产300台/套大扭矩永磁同步直驱电机项目", "年产300台/套"),
        ("江苏大中", "江苏大中智能化电机生产线项目", None),
        ("浙江中车尚驰", "浙江中车尚驰年产10万台新能源永磁驱动系统北方基地项目", "年产10万台"),
    ]
    for i in range(25):
        total, planned = amounts(300, 1600, 45, 75)
        p = make_project(None, 2024, "A", next_owner(), True, total, planned, strategic=i < 20)
        if i < len(named):
            p["enterprise"], p["name"], p["capacity"] = named[i]
            p["categories"] = ["industrial", "strategic_emerging", "rare_earth", "pm_motor"]
            p["park"] = "稀土永磁电机产业园"
        plan.append(p)
    # B: 17 other industrial new starts of 1亿元 or more, 10 strategic emerging.
    for i in range(17):
        total, planned = amounts(150, 1100, 45, 75)
        plan.append(make_project(None, 2024, "B", next_owner(), True, total, planned, strategic=i < 10))
    # C: 9 rare-earth projects that are not new starts of 1亿元 or more:
    # 5 continuing (3 strategic emerging: they do not count as new starts), 4 small new starts (2 strategic).
    for i in range(5):
        total, planned = amounts(800, 2600, 35, 60)
        plan.append(make_project(None, 2024, "C", next_owner(), False, total, planned, strategic=i < 3))
    for i in range(4):
        total, planned = amounts(40, 95, 60, 90)
        plan.append(make_project(None, 2024, "C", next_owner(), True, total, planned, strategic=i < 2))
    # D: 10 other industrial projects: 6 continuing, 4 small new starts; none strategic emerging.
    for i in range(6):
        total, planned = amounts(300, 1200, 35, 60)
        plan.append(make_project(None, 2024, "D", next_owner(), False, total, planned, strategic=False))
    for i in range(4):
        total, planned = amounts(30, 95, 60, 90)
        plan.append(make_project(None, 2024, "D", next_owner(), True, total, planned, strategic=False))
    # E: 10 infrastructure projects.
    for i in range(10):
        total, planned = amounts(150, 900, 40, 70)
        p = make_project(None, 2024, "E", None, i < 6, total, planned, strategic=False)
        p["name"] = INFRASTRUCTURE[i]
        plan.append(p)
    # The balancing project: 卧龙控股集团, signed this spring (article), in group A.
    total_target, planned_target = 57_384 * M, 31_830 * M
    wolong = plan[19]  # one of group A's 20 strategic-emerging projects
    wolong.update({"enterprise": "卧龙控股集团", "name": "卧龙控股集团包头稀土永磁电机项目",
                   "categories": ["industrial", "strategic_emerging", "rare_earth", "pm_motor"],
                   "park": "稀土永磁电机产业园", "capacity": "年产100万台"})
    others_total = sum(p["total"] for p in plan if p is not wolong)
    others_planned = sum(p["planned"] for p in plan if p is not wolong)
    wolong["total"] = total_target - others_total
    wolong["planned"] = planned_target - others_planned
    assert 1_000 * M <= wolong["total"] <= 8_000 * M, wolong["total"]
    assert 0.3 * wolong["total"] <= wolong["planned"] <= 0.9 * wolong["total"], (wolong["planned"], wolong["total"])
    for n, p in enumerate(plan, start=1):
        p["id"] = f"BT2024-{n:03d}"
    return plan


def plan_2023():
    plan = []
    # 16 rare-earth new starts of 1亿元 or more (12 strategic emerging), 16 other strategic new starts.
    for i in range(16):
        total, planned = amounts(200, 1500, 45, 75)
        plan.append(make_project(None, 2023, "A", next_owner(), True, total, planned, strategic=i < 12))
    for i in range(16):
        total, planned = amounts(60, 1200, 45, 75)
        plan.append(make_project(None, 2023, "B", next_owner(), True, total, planned, strategic=True))
    # Continuing and infrastructure projects that count in neither growth figure.
    for i in range(8):
        total, planned = amounts(300, 1800, 30, 60)
        plan.append(make_project(None, 2023, "C" if i < 4 else "D", next_owner(), False, total, planned, strategic=i % 2 == 0))
    for i in range(6):
        total, planned = amounts(100, 600, 40, 70)
        p = make_project(None, 2023, "E", None, True, total, planned, strategic=False)
        p["name"] = ["包头稀土高新区", "滨河新区", "希望工业园区"][i % 3] + ["道路改造工程", "雨污分流工程"][i % 2] + f"（{2023}年第{i + 1}批）"
        plan.append(p)
    for n, p in enumerate(plan, start=1):
        p["id"] = f"BT2023-{n:03d}"
    return plan


projects_2024 = plan_2024()
wolong = next(p for p in projects_2024 if p["enterprise"] == "卧龙控股集团")
projects_2023 = plan_2023()

# 2023 registrations, January–February 2023.
for i, p in enumerate(projects_2023):
    registration(p, stamp(2023, 1 + i % 2, 5 + i % 20, 9 + i % 8, (7 * i) % 60))
# A 2023 rare-earth strategic new start of 1亿元 or more that was cancelled:
# it must not count in 2023's figures, so not in the growth figures' "previous".
cancelled_2023 = {"id": "BT2023-C01", "year": 2023, "name": "包头某稀土合金年产2000吨生产线项目",
                  "categories": ["industrial", "strategic_emerging", "rare_earth", "rare_earth_material"],
                  "new_start": True, "total": 650 * M, "planned": 300 * M, "enterprise": next_owner(),
                  "park": "稀土新材料产业园"}
registration(cancelled_2023, stamp(2023, 2, 20))
add("project.status_changed", "build", stamp(2023, 9, 12), {"project_id": "BT2023-C01", "status": "cancelled",
                                                           "note": "企业资金链断裂，项目终止"})
for i, p in enumerate(projects_2023[:20]):
    add("project.status_changed", "build", stamp(2023, 4 + i % 5, 3 + i, 10), {"project_id": p["id"], "status": "started"})
    for month in (6, 7):
        add("project.investment_reported", "stats", stamp(2023, month + 1, 8, 11, i),
            {"project_id": p["id"], "period": f"2023-{month:02d}", "completed_investment": p["total"] // 20 // M * M})

# 2024 registrations, January–March 2024; some status and investment events below come before them.
for i, p in enumerate(projects_2024):
    registration(p, stamp(2024, 1 + i % 3, 8 + i % 20, 9 + i % 8, (11 * i) % 60))

# A correction: BT2024-005 was first registered with its amounts in the wrong unit
# and without its rare-earth category, a week before its corrected registration.
wrong = dict(projects_2024[4])
wrong["total"] *= 10
wrong["planned"] *= 10
wrong["categories"] = [c for c in wrong["categories"] if c != "rare_earth"]
registration(wrong, stamp(2024, 1, 2, 8, 30))
# Another: BT2024-099 was listed in the 2024 plan, then moved to the 2025 plan.
moved = make_project("BT2024-099", 2024, "A", next_owner(), True, *amounts(500, 900, 40, 60), strategic=True)
registration(moved, stamp(2024, 1, 12, 10))
moved_again = dict(moved, year=2025)
registration(moved_again, stamp(2024, 3, 28, 15))

# Projects that must not count: three not on the major list, two cancelled.
for n in range(1, 4):
    p = make_project(f"BT2024-N{n:02d}", 2024, "B", next_owner(), True, *amounts(20, 300, 50, 80), strategic=n == 1)
    p["major"] = False
    registration(p, stamp(2024, 2, 10 + n))
for n in range(1, 3):
    p = make_project(f"BT2024-X{n:02d}", 2024, "A", next_owner(), True, *amounts(300, 900, 40, 70), strategic=True)
    registration(p, stamp(2024, 1, 20 + n))
    add("project.status_changed", "build", stamp(2024, 3, 15 + n), {"project_id": p["id"], "status": "cancelled",
                                                                   "note": "企业调整投资计划，项目取消"})

# Status changes: the article's three started projects and the signed 卧龙 project.
for p in projects_2024[:3]:
    add("project.status_changed", "build", stamp(2024, 3, 20, 10), {"project_id": p["id"], "status": "started",
                                                                    "note": "已开工建设"})
add("project.status_changed", "build", stamp(2024, 4, 18, 16), {"project_id": wolong["id"], "status": "signed",
                                                                "note": "成功签约，力争当年建设、当年投产"})
# More starts across groups; the first arrives before its project's registration (kept, counted once registered).
for n, i in enumerate([3, 5, 8, 12, 18, 26, 30, 33, 40, 61, 62]):
    p = projects_2024[i]
    day = 2 if n == 0 else 5 + n
    add("project.status_changed", "build", stamp(2024, 1 if n == 0 else 4, day, 11), {"project_id": p["id"], "status": "started"})
# Continuing projects in production, one completed.
for i in (42, 43, 51):
    add("project.status_changed", "build", stamp(2024, 2, 26, 15), {"project_id": projects_2024[i]["id"], "status": "in_production"})
add("project.status_changed", "build", stamp(2024, 4, 28, 15), {"project_id": projects_2024[52]["id"], "status": "completed"})
# Suspended over the winter, resumed in spring (the latest status counts).
for i in (44, 53):
    pid = projects_2024[i]["id"]
    add("project.status_changed", "build", stamp(2023, 12, 1, 10), {"project_id": pid, "status": "suspended",
                                                                    "note": "冬季停工"})
    add("project.status_changed", "build", stamp(2024, 3, 5, 10), {"project_id": pid, "status": "resumed",
                                                                   "note": "已全面复工"})

# Monthly investment reports for started and continuing projects, January–April 2024.
reported = [0, 1, 2, 3, 5, 8, 42, 43, 44, 51, 52, 53]
for i in reported:
    p = projects_2024[i]
    for month in (1, 2, 3, 4):
        amount = p["planned"] // 12 // M * M
        add("project.investment_reported", "stats", stamp(2024, month + 1, 6, 10, i),
            {"project_id": p["id"], "period": f"2024-{month:02d}", "completed_investment": amount})
# A revised report: the March figure of BT2024-001, corrected in May (the later report counts).
add("project.investment_reported", "stats", stamp(2024, 5, 3, 17),
    {"project_id": "BT2024-001", "period": "2024-03", "completed_investment": 61 * M})
# A December 2023 report for a 2024 project, filed in January: period 2023-12 does not count in 2024.
add("project.investment_reported", "stats", stamp(2024, 1, 4, 9),
    {"project_id": "BT2024-043", "period": "2023-12", "completed_investment": 25 * M})

# ------------------------------------------------------------- recruitment

# 904 distinct enterprises contacted in 2024, among them the article's.
named_enterprises = ["卧龙控股集团", "重庆驱创", "江苏大中", "浙江中车尚驰"]
contacted_2024 = named_enterprises + owners[owner_index:owner_index + 900]
owner_index += 900
assert len(set(contacted_2024)) == 904
for n, enterprise in enumerate(contacted_2024):
    campaign = SPRING if n % 3 == 0 else HUNDRED_DAYS
    month = 1 + n % 4
    data = {"enterprise": enterprise, "campaign": campaign}
    if n % 5 != 4:
        data["industry"] = "pm_motor" if n % 5 < 3 else "rare_earth_material"
    if n == 7:
        # 00:30 on 1 January 2024 in Baotou: a 2024 contact.
        time = "2023-12-31T16:30:00Z"
    else:
        time = stamp(2024, month, 1 + n % 28, 8 + n % 10, n % 60)
    add("recruitment.enterprise_contacted", "recruit", time, data)
# 60 enterprises contacted again (the other campaign or a follow-up call): still 904 distinct.
for n in range(60):
    enterprise = contacted_2024[rng.below(len(contacted_2024))]
    campaign = SPRING if n % 2 else HUNDRED_DAYS
    add("recruitment.enterprise_contacted", "recruit", stamp(2024, 4, 1 + n % 28, 14, n % 60),
        {"enterprise": enterprise, "campaign": campaign, "industry": "pm_motor"})
# 2023 contacts: they count in 2023, not in 2024; one is 23:59:59 on 31 December in Baotou.
contacted_2023 = owners[owner_index:owner_index + 40]
owner_index += 40
for n, enterprise in enumerate(contacted_2023):
    time = "2023-12-31T15:59:59Z" if n == 0 else stamp(2023, 10 + n % 3, 1 + n % 28, 10)
    add("recruitment.enterprise_contacted", "recruit", time, {"enterprise": enterprise, "campaign": AUTUMN_2023})

# 276 site visits in 2024 (some enterprises came twice), 12 in late 2023.
visitors = contacted_2024[:]
rng.shuffle(visitors)
for n in range(276):
    enterprise = visitors[n % 230]
    add("recruitment.site_visit", "recruit", stamp(2024, 1 + n % 4, 2 + n % 27, 9 + n % 8, n % 60),
        {"enterprise": enterprise, "campaign": HUNDRED_DAYS if n % 4 else SPRING, "visitors": 2 + n % 7})
for n in range(12):
    add("recruitment.site_visit", "recruit", stamp(2023, 11, 3 + n, 10),
        {"enterprise": contacted_2023[n], "campaign": AUTUMN_2023, "visitors": 3})

# 17 enterprises signed agreements; 卧龙控股集团 signed two (counted once).
signers = ["卧龙控股集团"] + visitors[:16]
for n, enterprise in enumerate(signers):
    data = {"enterprise": enterprise, "campaign": HUNDRED_DAYS if n % 3 else SPRING}
    if n == 0:
        data.update({"project_id": wolong["id"], "intended_investment": wolong["total"]})
    else:
        data["intended_investment"] = rng.between(100, 900) * M
    add("recruitment.agreement_signed", "recruit", stamp(2024, 2 + n % 3, 6 + n, 15), data)
add("recruitment.agreement_signed", "recruit", stamp(2024, 4, 25, 15),
    {"enterprise": "卧龙控股集团", "campaign": HUNDRED_DAYS, "intended_investment": 500 * M})
# 2023: two agreements that do not count in 2024.
for n in range(2):
    add("recruitment.agreement_signed", "recruit", stamp(2023, 11, 20 + n, 15),
        {"enterprise": contacted_2023[n], "campaign": AUTUMN_2023})

# Projects brought in so far toward the year's targets (30 pm_motor, 15 rare_earth_material).
for n in range(12):
    enterprise = signers[n] if n < len(signers) else visitors[n]
    add("recruitment.project_introduced", "recruit", stamp(2024, 3 + n % 2, 10 + n, 11),
        {"enterprise": enterprise, "campaign": HUNDRED_DAYS, "project_id": f"ZS2024-PM-{n + 1:02d}", "industry": "pm_motor"})
for n in range(6):
    add("recruitment.project_introduced", "recruit", stamp(2024, 3, 2 + n, 11),
        {"enterprise": visitors[20 + n], "campaign": SPRING, "project_id": f"ZS2024-RM-{n + 1:02d}",
         "industry": "rare_earth_material"})
# The same introduction reported again by the other campaign: one project.
add("recruitment.project_introduced", "recruit", stamp(2024, 4, 30, 11),
    {"enterprise": signers[0], "campaign": SPRING, "project_id": "ZS2024-PM-01", "industry": "pm_motor"})


# ----------------------------------------------------------------- output

def instant_key(event):
    """Orders events as "latest by time" does: instant, then id bytes."""
    t = event["time"]
    return (datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp(), event["id"].encode())


events.sort(key=instant_key)
text = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)

if "--check" in sys.argv[1:]:
    if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
        sys.exit(f"{OUT} is not what demo/generate.py writes: run python3 demo/generate.py")
    print(f"{OUT.name} is up to date ({len(events)} events)")
else:
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(events)} events)")
