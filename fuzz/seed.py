#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets whose inputs are not message bodies:
fuzz/corpus/{csv,amqp-properties,dead-letter,config}/seed-*. (The event and batch targets seed
from Tests/Corpus.) The fuzzers grow the corpus from these; `fuzz/run merge TARGET` keeps it
small. Run it again only to change the seeds.
"""
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(ROOT, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
        f.write(data)


# --- AMQP basic properties in wire format (what librabbitmq's amqp_decode_properties reads).
def shortstr(text):
    data = text.encode() if isinstance(text, str) else text
    return bytes([len(data)]) + data


def longstr(data):
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">I", len(data)) + data


def value(kind, payload):
    return kind.encode() + payload


def table(entries):
    body = b"".join(shortstr(key) + val for key, val in entries)
    return struct.pack(">I", len(body)) + body


def array(values):
    body = b"".join(values)
    return struct.pack(">I", len(body)) + body


FLAGS = ["content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id", "reply_to",
         "expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id"]


def properties(**fields):
    flags = 0
    body = b""
    for index, name in enumerate(FLAGS):
        if name not in fields:
            continue
        flags |= 1 << (15 - index)
        field = fields[name]
        if name == "headers":
            body += table(field)
        elif name in ("delivery_mode", "priority"):
            body += bytes([field])
        elif name == "timestamp":
            body += struct.pack(">Q", field)
        else:
            body += shortstr(field)
    return struct.pack(">H", flags) + body


death = value("A", array([value("F", table([
    ("reason", value("S", longstr("delivery_limit"))), ("queue", value("S", longstr("lode.work"))),
    ("count", value("l", struct.pack(">q", 2**63 - 1))), ("time", value("T", struct.pack(">Q", 2**64 - 1))),
]))]))
seeds = {
    "plain": properties(content_type="application/cloudevents+json", delivery_mode=2),
    "attempts-int64-max": properties(headers=[("x-lode-attempts", value("l", struct.pack(">q", 2**63 - 1)))]),
    "attempts-string": properties(headers=[("x-lode-attempts", value("S", longstr("many"))),
                                            ("x-delivery-count", value("L", struct.pack(">Q", 2**64 - 1)))]),
    "x-death": properties(headers=[("x-death", death)], type="zone.project.registered", app_id="dept\x1b[2J"),
    "worker-dead-letter": properties(content_type="application/cloudevents+json", delivery_mode=2, message_id="e-1",
                                     headers=[("x-lode-reason", value("S", longstr("invalid_json"))),
                                              ("x-lode-error", value("S", longstr("not valid JSON"))),
                                              ("x-lode-attempts", value("I", struct.pack(">i", 1))),
                                              ("x-lode-first-failed-at", value("S", longstr("2024-05-05T10:00:00Z"))),
                                              ("x-lode-dead-letter-id", value("S", longstr("0123456789ab")))]),
    "kinds": properties(headers=[("b", value("t", b"\x01")), ("i8", value("b", b"\x80")), ("u8", value("B", b"\xff")),
                                 ("i16", value("s", b"\x80\x00")), ("u16", value("u", b"\xff\xff")),
                                 ("f", value("f", b"\x7f\xc0\x00\x00")), ("d", value("d", b"\x7f\xf8" + b"\x00" * 6)),
                                 ("dec", value("D", b"\xff\xff\xff\xff\xff")), ("v", value("V", b"")),
                                 ("x", value("x", longstr(b"\xc3\x28"))), ("bad", value("S", longstr(b"\xff\xfe"))),
                                 ("t", value("T", struct.pack(">Q", 0)))],
                        timestamp=2**64 - 1, priority=255, user_id="guest", cluster_id="c", reply_to="r",
                        correlation_id="corpus:x", expiration="60000", content_encoding="gzip"),
    "nested": properties(headers=[("deep", value("F", table([("t", value("F", table([("t", value("F", table([])))])))])))]),
}
for name, data in seeds.items():
    write("amqp-properties", name, data)
    body = b'{"specversion":"1.0","id":"e-1","source":"s","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-1","status":"started"}}'
    write("dead-letter", name, struct.pack(">H", len(data)) + data + body)

# --- CSV: a selector byte (the event type: index modulo 7; 128 and up: --time-now), then the file.
csv = {
    "registered": (0, "project_id,name,plan_year,categories,new_start,total_investment,planned_investment,time\r\n"
                      "BT-1,\"稀土\"\"永磁\"\",項目\",2024,industrial;rare_earth,true,100000000,5000000,2024-05-05T10:00:00+08:00\r\n"),
    "status": (1, "\ufeffproject_id,status,note,source,id\nBT-1,started,\"多行\n說明\",bt-hitech/office,e-1\n"),
    "investment": (2 + 128, "project_id,period,completed_investment\nBT-1,2024-05,5.7384E+10\nBT-2,2024-13,-0\n"),
    "contacted": (3, "enterprise,campaign,industry,time\n甲,百日攻堅,pm_motor,2024-05-05T10:00:00Z\n,,,\n"),
    "visit": (4 + 128, "enterprise,campaign,visitors,source\n乙,c,99999999999999999999,发改委 项目科\n"),
    "agreement": (5, "enterprise,campaign,project_id,intended_investment,time\n丙,c,BT-3,1000000000000001,2024-02-30T00:00:00Z\n"),
    "introduced": (6 + 128, "enterprise,campaign,project_id,industry\n\"unterminated,c,BT-4,rare_earth_material\n"),
}
for name, (selector, text) in csv.items():
    write("csv", name, bytes([selector]) + text.encode())

# --- Config files.
configs = {
    "full": """amqp:
  url: amqp://worker@127.0.0.1:5672/%2F
  password_file: /run/secrets/amqp
db: /var/lib/lodestone/zone.sqlite
timezone: Asia/Shanghai
metrics:
  address: 127.0.0.1:9464
worker:
  prefetch: 500
  transaction_events: 1000
  transaction_ms: 200
  stall_seconds: 300
targets:
  2024:
    - name: 永磁电机项目
      figure: projects_introduced.pm_motor
      target: 30
channels:
  ops:
    kind: dingtalk
    url_env: HOOK
    format: markdown
notifications:
  - name: started
    event: zone.project.status_changed
    when: {status: started}
    channels: [ops]
    message: "{project_name}（{project_id}）已开工"
""",
    "bad-values": "worker:\n  prefetch: 99999999999999999999999\n  transaction_ms: -1\nmetrics:\n  address: '[::1]:99999'\ntimezone: Mars/Olympus\n",
    "anchors": "a: &x [*x]\nworker: &w {prefetch: 1}\ndb: *w\n",
    "tabs-and-bom": "\ufeffdb:\t'x'\n  - y\n",
}
for name, text in configs.items():
    write("config", name, text.encode())
print("seeds written")
