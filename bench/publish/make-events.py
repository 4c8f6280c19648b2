#!/usr/bin/env python3
"""make-events.py COUNT OUT: COUNT realistic zone events (~330 bytes each) as NDJSON.

All seven types, two departments as sources, Chinese names, deterministic ids and content
(the same file on every run)."""
import json, random, sys

if len(sys.argv) != 3 or not sys.argv[1].isdigit():
    print(__doc__.split("\n\n")[0] + "\n\nusage: make-events.py COUNT OUT   (e.g. make-events.py 100000 events.ndjson)",
          file=sys.stderr if len(sys.argv) != 2 or sys.argv[1] not in ("-h", "--help") else sys.stdout)
    sys.exit(0 if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help") else 64)
count, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(2024)
parks = ["稀土永磁电机产业园", "稀土新材料产业园", "装备制造产业园"]
campaigns = ["2024-百日攻坚招商行动", "2024-长三角专项招商", "2024-珠三角专项招商"]
categories = ["industrial", "strategic_emerging", "rare_earth", "pm_motor", "rare_earth_material", "infrastructure"]
statuses = ["signed", "started", "resumed", "completed", "in_production"]

def event(n):
    kind = n % 7
    pid = f"BT-2024-{n % 5000:04d}"
    enterprise = f"包头市第{n % 3000}号稀土永磁科技有限公司"
    if kind == 0:
        typ, src = "zone.project.registered", "bt-dev-office/projects"
        data = {"project_id": pid, "name": f"年产{n % 90 + 10}万台新能源永磁驱动系统项目", "plan_year": 2024,
                "categories": rng.sample(categories, 2), "new_start": n % 2 == 0,
                "total_investment": rng.randrange(10**8, 10**10), "planned_investment": rng.randrange(10**7, 10**9),
                "park": parks[n % 3]}
    elif kind == 1:
        typ, src = "zone.project.status_changed", "bt-dev-office/projects"
        data = {"project_id": pid, "status": statuses[n % 5], "note": "现场核实，按计划推进中"}
    elif kind == 2:
        typ, src = "zone.project.investment_reported", "bt-stats-bureau/monthly"
        data = {"project_id": pid, "period": f"2024-{n % 12 + 1:02d}", "completed_investment": rng.randrange(10**6, 10**9)}
    elif kind == 3:
        typ, src = "zone.recruitment.enterprise_contacted", "bt-investment-bureau/crm"
        data = {"enterprise": enterprise, "campaign": campaigns[n % 3], "industry": categories[n % 6]}
    elif kind == 4:
        typ, src = "zone.recruitment.site_visit", "bt-investment-bureau/crm"
        data = {"enterprise": enterprise, "campaign": campaigns[n % 3], "visitors": n % 9 + 1}
    elif kind == 5:
        typ, src = "zone.recruitment.agreement_signed", "bt-investment-bureau/crm"
        data = {"enterprise": enterprise, "campaign": campaigns[n % 3], "project_id": pid,
                "intended_investment": rng.randrange(10**8, 10**10)}
    else:
        typ, src = "zone.recruitment.project_introduced", "bt-investment-bureau/crm"
        data = {"enterprise": enterprise, "campaign": campaigns[n % 3], "project_id": pid, "industry": categories[n % 6]}
    return {"specversion": "1.0", "id": f"bench-{n:07d}", "source": src, "type": typ,
            "time": f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:{n % 60:02d}:00+08:00",
            "datacontenttype": "application/json", "data": data}

with open(out, "w", encoding="utf-8") as f:
    total = 0
    for n in range(count):
        line = json.dumps(event(n), ensure_ascii=False, separators=(",", ":"))
        total += len(line.encode())
        f.write(line + "\n")
print(f"{count} events, {total / count:.0f} bytes each on average", file=sys.stderr)
