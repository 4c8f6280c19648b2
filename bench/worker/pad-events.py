#!/usr/bin/env python3
"""pad-events.py IN OUT BYTES: the events of IN (NDJSON), each grown to about BYTES bytes with a
CloudEvents extension attribute `remark` (free text, as a spreadsheet's remarks column would
carry; extension attributes are allowed and ignored by the worker, but travel, are logged and
are stored with the event). For bench/worker.sh's large-message runs."""
import json, sys

src, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = "现场核实项目进展，企业反映用地、用电、融资等问题，已转相关部门协调办理。"  # 3 bytes a character
total = count = 0
with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
    for line in f:
        event = json.loads(line)
        base = len(line.encode()) - 1 + len(',"remark":""'.encode())
        need = max(0, target - base) // 3
        event["remark"] = (text * (need // len(text) + 1))[:need]
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        total += len(line.encode())
        count += 1
        o.write(line + "\n")
print(f"{count} events, {total / count:.0f} bytes each on average", file=sys.stderr)
