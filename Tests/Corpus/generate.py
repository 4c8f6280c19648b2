#!/usr/bin/env python3
"""Writes the bad-input corpus: Tests/Corpus/{events,batches}/*.json (message bodies, byte for
byte) and Tests/Corpus/manifest.json (each case with its message properties, headers and the
outcome expected of it). Run it after changing a case; `--check` fails when the files differ
from what it would write (CI runs that).

The manifest is the single list the tests read (LodeWorkerTests' BadInputCorpusTests, the
publisher's and the worker's through the broker in BrokerIntegrationTests) and the fuzzers seed
from the bodies (fuzz/run). docs/reliability.md describes the format.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def event(id="corpus-0001", type="zone.project.status_changed", source="bt-hitech/project-construction-office",
          time="2024-05-05T10:00:00+08:00", data=None, extra=None, drop=()):
    if data is None:
        data = {"project_id": "CORPUS-1", "status": "started"}
    members = [("specversion", "1.0"), ("id", id), ("source", source), ("type", type), ("time", time), ("data", data)]
    members += list((extra or {}).items())
    return {k: v for k, v in members if k not in drop}


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text(value):
    return dumps(value).encode()


def registered(id, **fields):
    data = {"project_id": "CORPUS-R1", "name": "稀土永磁电机项目", "plan_year": 2024, "categories": ["industrial"],
            "new_start": True, "total_investment": 100000000, "planned_investment": 50000000}
    data.update(fields)
    return event(id=id, type="zone.project.registered", source="bt-hitech/development-reform-bureau", data=data)


def raw_registered(id, total):
    """A registration whose total_investment is written exactly as `total` (bytes)."""
    body = text(registered(id, total_investment=7))
    return body.replace(b'"total_investment":7', b'"total_investment":' + total)


def status(id, **extra):
    return event(id=id, **extra)


def rejected(reason, *mentions):
    return {"reason": reason, "mentions": list(mentions)}


APPLIED = "applied"
cases = []


def case(name, body, expect, content_type=SINGLE, kind="events", publisher="same", headers=None,
         properties=None, note=None, routing_key=None, broker=None):
    entry = {"name": name, "body": f"{kind}/{name}.json", "expect": expect}
    if content_type is not None:
        entry["content_type"] = content_type
    if routing_key:
        entry["routing_key"] = routing_key
    if publisher != "same":
        entry["publisher"] = publisher
    if headers:
        entry["headers"] = headers
    if properties:
        entry["properties"] = properties
    if broker:
        entry["broker"] = broker
    if note:
        entry["note"] = note
    cases.append((entry, body if isinstance(body, bytes) else text(body)))


valid = text(status("corpus-valid-0001"))

# --- Valid events: the corpus checks acceptance too.
case("valid-status-changed", valid, APPLIED)
case("valid-max-amount", registered("corpus-valid-max", total_investment=10**15, planned_investment=10**15), APPLIED)
case("valid-extension-attribute", status("corpus-valid-ext", extra={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "comexampleflag": True, "priority7": 7}), APPLIED)
case("valid-source-urn", status("corpus-valid-urn", source="urn:bt-hitech:statistics-bureau"), APPLIED)
case("valid-source-percent-encoded", status("corpus-valid-pct", source="%E5%8F%91%E6%94%B9%E5%A7%94%20%E9%A1%B9%E7%9B%AE%E7%A7%91"), APPLIED)
case("valid-control-characters-escaped-in-note", status("corpus-valid-ansi", data={"project_id": "CORPUS-1", "status": "started", "note": "\u001b[31mred\u001b[0m\r\nforged: line\t*bold* <b>x</b> [link](http://x)"}), APPLIED,
     note="valid data; every printer of it (terminal, chat, log) must neutralise it")
case("valid-no-content-type", text(status("corpus-valid-noct")), APPLIED, content_type=None)
case("valid-application-json", text(status("corpus-valid-json")), APPLIED, content_type="application/json")
case("valid-255-byte-id", status("i" * 255), APPLIED)
case("valid-1000-scalar-note", status("corpus-valid-1000", data={"project_id": "CORPUS-1", "status": "started", "note": "项" * 1000}), APPLIED)
case("valid-leap-second", status("corpus-valid-leap", time="2016-12-31T23:59:60Z"), APPLIED,
     note="RFC 3339 allows second 60; the zone's clock records it as the last second of the minute")

# --- Broken and truncated JSON.
case("empty-body", b"", rejected("invalid_json", "JSON"), publisher=APPLIED,
     note="an empty NDJSON file holds no event: lode-publish has nothing to refuse")
case("whitespace-only", b" \n\t ", rejected("invalid_json", "JSON"), publisher="skip")
case("not-json", b"{not json", rejected("invalid_json", "JSON"))
case("truncated-json", valid[: len(valid) // 2], rejected("invalid_json", "JSON"))
case("truncated-in-string", valid[:40], rejected("invalid_json", "JSON"))
case("trailing-garbage", valid + b" x", rejected("invalid_json", "JSON"))
case("two-objects", valid + valid, rejected("invalid_json", "JSON"))
case("trailing-comma", valid[:-2] + b",}}", rejected("invalid_json", "JSON"))
case("single-quotes", valid.replace(b'"specversion"', b"'specversion'"), rejected("invalid_json", "JSON"))
case("unquoted-key", valid.replace(b'"specversion"', b"specversion"), rejected("invalid_json", "JSON"))
case("comment", b"/* hi */" + valid, rejected("invalid_json", "JSON"))
case("nan-literal", valid.replace(b'"status":"started"', b'"status":"started","x":NaN'), rejected("invalid_json", "JSON"))

# --- Wrong JSON types.
case("body-null", b"null", rejected("invalid_event", "null"))
case("body-string", b'"zone.project.status_changed"', rejected("invalid_event", "string"))
case("body-number", b"42", rejected("invalid_event", "42"))
case("body-array", text([status("corpus-array-1")]), rejected("invalid_event", "array", BATCH))
case("specversion-number", valid.replace(b'"specversion":"1.0"', b'"specversion":1.0'), rejected("invalid_event", "specversion"))
case("specversion-0.3", valid.replace(b'"specversion":"1.0"', b'"specversion":"0.3"'), rejected("invalid_event", "specversion"))
case("id-number", valid.replace(b'"id":"corpus-valid-0001"', b'"id":1'), rejected("invalid_event", "id"))
case("id-empty", status(""), rejected("invalid_event", "id"))
case("id-256-bytes", status("i" * 256), rejected("invalid_event", "id", "256 bytes"))
case("type-array", valid.replace(b'"type":"zone.project.status_changed"', b'"type":["zone.project.status_changed"]'), rejected("invalid_event", "type"))
case("unknown-type", status("corpus-unknown", type="zone.project.exploded"), rejected("unknown_type", "zone.project.exploded"), routing_key="zone.project.exploded")
case("data-array", status("corpus-data-array", data=[]), rejected("invalid_event", "data"))
case("data-string", status("corpus-data-string", data="started"), rejected("invalid_event", "data"))
case("data-null", status("corpus-data-null", data=None) | {"data": None}, rejected("invalid_event", "data"))
case("data-missing", status("corpus-data-missing", drop=("data",)), rejected("invalid_event", "data"))
case("plan-year-string", registered("corpus-plan-year", plan_year="2024"), rejected("invalid_event", "plan_year"))
case("categories-string", registered("corpus-categories", categories="industrial"), rejected("invalid_event", "categories"))
case("new-start-string", registered("corpus-new-start", new_start="true"), rejected("invalid_event", "new_start"))
case("datacontenttype-text", status("corpus-dct", extra={"datacontenttype": "text/plain"}), rejected("invalid_event", "datacontenttype"))
case("data-base64", status("corpus-b64", drop=("data",), extra={"data_base64": "e30="}), rejected("invalid_event", "data_base64"))

# --- Numbers.
case("amount-past-10-15", raw_registered("corpus-amount-1e15", b"1000000000000001"), rejected("invalid_event", "total_investment"))
case("amount-past-2-63", raw_registered("corpus-amount-2-63", b"9223372036854775808"), rejected("invalid_event", "total_investment"))
case("amount-400-digits", raw_registered("corpus-amount-400", b"1" + b"0" * 400), rejected("invalid_event", "total_investment"))
case("amount-exponent-1e3", raw_registered("corpus-amount-1e3", b"1e3"), rejected("invalid_event", "total_investment"))
case("amount-minus-zero", raw_registered("corpus-amount-minus-0", b"-0"), APPLIED,
     note="-0 is the integer 0 in JSON (as every JSON reader takes it), within 0..10^15")
case("amount-decimal", raw_registered("corpus-amount-decimal", b"5.0"), rejected("invalid_event", "total_investment"))
case("amount-negative", raw_registered("corpus-amount-negative", b"-5"), rejected("invalid_event", "total_investment"))
case("amount-leading-zero", raw_registered("corpus-amount-leading-zero", b"0100"), rejected("invalid_json", "JSON"))
case("plan-year-exponent", text(registered("corpus-plan-year-exp")).replace(b'"plan_year":2024', b'"plan_year":2.024e3'), rejected("invalid_event", "plan_year"))
case("visitors-past-2-63", text(event(id="corpus-visitors", type="zone.recruitment.site_visit", source="bt-hitech/investment-promotion-bureau",
                                      data={"enterprise": "甲", "campaign": "c", "visitors": 1})).replace(b'"visitors":1', b'"visitors":99999999999999999999'),
     rejected("invalid_event", "visitors"))

# --- Depth and size.
case("deep-nesting-in-extension", valid[:-1] + b',"deep":' + b"[" * 20000 + b"]" * 20000 + b"}", rejected("invalid_json", "deep"))
case("deep-nesting-in-data", valid.replace(b'"status":"started"', b'"status":"started","x":' + b"{\"a\":" * 3000 + b"1" + b"}" * 3000),
     rejected("invalid_json", "deep"))
case("huge-array-in-extension", valid[:-1] + b',"many":[' + b",".join([b"1"] * 10000) + b"]}", rejected("invalid_event", "many"))
case("huge-categories-array", registered("corpus-categories-huge", categories=["industrial"] * 5000), rejected("invalid_event", "categories"))
case("event-over-64-kib", status("corpus-big", data={"project_id": "CORPUS-1", "status": "started", "note": "x" * 70000}), rejected("too_large", "64 KiB"))
case("note-1001-scalars", status("corpus-1001", data={"project_id": "CORPUS-1", "status": "started", "note": "项" * 1001}), rejected("invalid_event", "note"))

# --- NUL, control characters, UTF-8, surrogates, BOMs.
case("raw-nul-in-string", valid.replace(b"CORPUS-1", b"CORPUS\x00-1"), rejected("invalid_json", "JSON"))
case("raw-control-in-string", valid.replace(b"CORPUS-1", b"CORPUS\x01-1"), rejected("invalid_json", "JSON"))
case("escaped-nul-in-id", valid.replace(b'"id":"corpus-valid-0001"', b'"id":"corpus\\u0000nul"'), rejected("invalid_event", "id", "NUL"))
case("escaped-nul-in-data", valid.replace(b"CORPUS-1", b"CORPUS\\u0000-1"), rejected("invalid_event", "project_id"))
case("invalid-utf8", valid.replace(b"started", b"start\xc3\x28ed"), rejected("invalid_json", "UTF-8"))
case("overlong-utf8", valid.replace(b"CORPUS-1", b"CORPUS\xc0\xaf1"), rejected("invalid_json", "UTF-8"))
case("utf8-encoded-surrogate", valid.replace(b"CORPUS-1", b"CORPUS\xed\xa0\x801"), rejected("invalid_json", "UTF-8"))
case("lone-high-surrogate", text(status("corpus-lone-high")).replace(b'"status":"started"', b'"status":"started","note":"\\ud800"'), rejected("invalid_json", "surrogate"))
case("lone-low-surrogate", text(status("corpus-lone-low")).replace(b'"status":"started"', b'"status":"started","note":"x\\udc00y"'), rejected("invalid_json", "surrogate"))
case("reversed-surrogates", text(status("corpus-reversed")).replace(b'"status":"started"', b'"status":"started","note":"\\udc00\\ud800"'), rejected("invalid_json", "surrogate"))
case("bom", b"\xef\xbb\xbf" + text(status("corpus-bom")), rejected("invalid_json", "byte order mark"),
     publisher=APPLIED, note="NDJSON files may start with a BOM (lode-publish drops it); a message body may not")
case("utf16-body", text(status("corpus-utf16")).decode().encode("utf-16"), rejected("invalid_json", "JSON"), publisher="skip")

# --- Keys.
case("duplicate-key-id", valid.replace(b'"id":"corpus-valid-0001"', b'"id":"corpus-dup-a","id":"corpus-dup-b"'), rejected("invalid_json", "duplicate key 'id'"))
case("duplicate-key-escaped", valid.replace(b'"id":"corpus-valid-0001"', b'"id":"corpus-dup-c","\\u0069d":"corpus-dup-d"'), rejected("invalid_json", "duplicate key 'id'"))
case("duplicate-key-in-data", valid.replace(b'"status":"started"', b'"status":"started","status":"cancelled"'), rejected("invalid_json", "duplicate key 'status'"))
case("unknown-data-field", status("corpus-typo", data={"projct_id": "CORPUS-1", "status": "started"}), rejected("invalid_event", "projct_id", "project_id"))
case("extension-name-uppercase", status("corpus-bad-ext", extra={"Bad-Ext": "1"}), rejected("invalid_event", "Bad-Ext", "a-z"))
case("extension-name-underscore", status("corpus-bad-ext2", extra={"my_ext": "1"}), rejected("invalid_event", "my_ext", "myext"))
case("extension-object-value", status("corpus-ext-object", extra={"trace": {"id": 1}}), rejected("invalid_event", "trace", "object"))
case("extension-fraction-value", status("corpus-ext-fraction", extra={"weight": 1.5}), rejected("invalid_event", "weight"))
case("subject-empty", status("corpus-subject", extra={"subject": ""}), rejected("invalid_event", "subject"))
case("dataschema-relative", status("corpus-dataschema", extra={"dataschema": "schemas/status.json"}), rejected("invalid_event", "dataschema", "absolute"))

# --- source: a URI-reference.
case("source-chinese-with-space", status("corpus-source-zh", source="发改委 项目科"),
     rejected("invalid_event", "source", "URI-reference", "%E5%8F%91%E6%94%B9%E5%A7%94%20%E9%A1%B9%E7%9B%AE%E7%A7%91"))
case("source-colon-in-first-segment", status("corpus-source-colon", source="2024:dept"), rejected("invalid_event", "source", "scheme"))
case("source-two-fragments", status("corpus-source-hash", source="dept#a#b"), rejected("invalid_event", "source", "'#'"))
case("source-control-character", status("corpus-source-ctl", source="dept\u001b[2J"), rejected("invalid_event", "source", "control characters"))

# --- Times.
case("impossible-date-feb-30", status("corpus-feb30", time="2024-02-30T10:00:00+08:00"), rejected("invalid_event", "time"))
case("impossible-date-feb-29-2023", status("corpus-feb29", time="2023-02-29T10:00:00+08:00"), rejected("invalid_event", "time"))
case("month-13", status("corpus-month13", time="2024-13-01T10:00:00+08:00"), rejected("invalid_event", "time"))
case("hour-24", status("corpus-hour24", time="2024-05-05T24:00:00+08:00"), rejected("invalid_event", "time"))
case("second-61", status("corpus-sec61", time="2024-05-05T10:00:61+08:00"), rejected("invalid_event", "time"))
case("time-without-offset", status("corpus-no-offset", time="2024-05-05T10:00:00"), rejected("invalid_event", "time", "offset"))
case("date-only", status("corpus-date-only", time="2024-05-05"), rejected("invalid_event", "time"))
case("offset-past-24h", status("corpus-offset", time="2024-05-05T10:00:00+25:00"), rejected("invalid_event", "time"))
case("period-month-13", event(id="corpus-period", type="zone.project.investment_reported", source="bt-hitech/statistics-bureau",
                                data={"project_id": "CORPUS-R1", "period": "2024-13", "completed_investment": 5}), rejected("invalid_event", "period"))

# --- Batches.
def batch(*events):
    return text(list(events))


def rsite(id, source="bt-hitech/investment-promotion-bureau"):
    return event(id=id, type="zone.recruitment.site_visit", source=source, data={"enterprise": "乙", "campaign": "c", "visitors": 2})


case("batch-valid", batch(rsite("corpus-b-valid-1"), rsite("corpus-b-valid-2")), {"elements": [APPLIED, APPLIED]},
     content_type=BATCH, kind="batches", publisher="skip", routing_key="zone.recruitment.site_visit")
case("batch-mixed-types", batch(rsite("corpus-b-mixed-1"), status("corpus-b-mixed-2")),
     {"elements": [APPLIED, rejected("invalid_event", "one type")]}, content_type=BATCH, kind="batches", publisher="skip")
case("batch-mixed-sources", batch(rsite("corpus-b-src-1"), rsite("corpus-b-src-2", source="bt-hitech/other")),
     {"elements": [APPLIED, rejected("invalid_event", "one source")]}, content_type=BATCH, kind="batches", publisher="skip")
case("batch-one-bad-element", batch(rsite("corpus-b-bad-1"), rsite("corpus-b-bad-2") | {"time": "2024-05-05"}, rsite("corpus-b-bad-3")),
     {"elements": [APPLIED, rejected("invalid_event", "time"), APPLIED]}, content_type=BATCH, kind="batches", publisher="skip")
case("batch-non-object-elements", b'[1,"x",null,[]]',
     {"elements": [rejected("invalid_event", "object")] * 4}, content_type=BATCH, kind="batches", publisher="skip")
case("batch-empty", b"[]", {"elements": []}, content_type=BATCH, kind="batches", publisher="skip")
case("batch-truncated", batch(rsite("corpus-b-trunc-1"), rsite("corpus-b-trunc-2"))[:-30], rejected("invalid_json", "JSON"),
     content_type=BATCH, kind="batches", publisher="skip")
case("batch-object-body", text(rsite("corpus-b-object")), rejected("invalid_event", "array"), content_type=BATCH, kind="batches", publisher="skip")
case("batch-1001-events", b"[" + b",".join([b"{}"] * 1001) + b"]", rejected("too_large", "1000"), content_type=BATCH, kind="batches", publisher="skip")
case("batch-over-1-mib", b"[" + b",".join([text(rsite("corpus-b-big")).replace(b'"visitors":2', b'"visitors":2,"pad":"' + b"p" * 1200 + b'"')] * 900) + b"]",
     rejected("too_large", "1 MiB"), content_type=BATCH, kind="batches", publisher="skip")
case("batch-nested-array", text([[rsite("corpus-b-nested")]]), {"elements": [rejected("invalid_event", "array")]},
     content_type=BATCH, kind="batches", publisher="skip")
case("batch-bad-element-json", b'[' + text(rsite("corpus-b-elem-1")) + b',{"id":NaN}]',
     {"elements": [APPLIED, rejected("invalid_json", "JSON")]}, content_type=BATCH, kind="batches", publisher="skip")

# --- Hostile headers and odd properties (on a valid or an invalid body).
INT64_MAX = {"int64": "9223372036854775807"}


def hcase(name, body, expect, headers=None, properties=None, note=None, broker=None):
    case(name, body, expect, headers=headers, properties=properties, publisher="skip", note=note,
         broker=broker)


invalid = b"{not json"
hcase("header-attempts-int64-max-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-lode-attempts", "value": INT64_MAX}])
hcase("header-attempts-int64-min-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-lode-attempts", "value": {"int64": "-9223372036854775808"}}])
hcase("header-delivery-count-int64-max-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-delivery-count", "value": INT64_MAX}])
hcase("header-attempts-uint64-max-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-lode-attempts", "value": {"uint64": "18446744073709551615"}}],
      note="RabbitMQ hands it on as a negative number: the dead letter must still count 1 attempt")
hcase("header-attempts-string-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-lode-attempts", "value": {"string": "many"}}, {"key": "x-lode-first-failed-at", "value": {"int32": 5}}])
hcase("header-forged-x-death", text(status("corpus-h-death")), APPLIED,
      headers=[{"key": "x-death", "value": {"array": [{"table": [
          {"key": "reason", "value": {"string": "delivery_limit"}}, {"key": "count", "value": INT64_MAX},
          {"key": "queue", "value": {"string": "lode.work\u001b[2J"}}, {"key": "time", "value": {"timestamp": "18446744073709551615"}}]}]}}])
hcase("header-forged-x-death-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-death", "value": {"array": [{"table": [
          {"key": "reason", "value": {"string": "delivery_limit"}}, {"key": "count", "value": {"int64": "-1"}},
          {"key": "time", "value": {"timestamp": "18446744073709551615"}}]}, {"string": "not a table"}]}}])
hcase("header-x-death-wrong-type-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-death", "value": {"string": "delivery_limit"}}])
hcase("header-forged-x-lode-reason", text(status("corpus-h-reason")), APPLIED,
      headers=[{"key": "x-lode-reason", "value": {"string": "poison"}}, {"key": "x-lode-error", "value": {"string": "\u001b[2Jforged"}}])
hcase("header-table-nested-200-deep", text(status("corpus-h-nested")), APPLIED, headers=[{"key": "deep", "value": {"nested_tables": 200}}])
hcase("header-table-nested-200-deep-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "deep", "value": {"nested_tables": 200}}])
hcase("header-10000-element-array", text(status("corpus-h-array")), APPLIED,
      headers=[{"key": "many", "value": {"repeat": 10000, "of": {"int32": 7}}}])
hcase("header-10000-element-array-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "many", "value": {"repeat": 10000, "of": {"int32": 7}}}])
hcase("header-100-kb-string", text(status("corpus-h-string")), APPLIED,
      headers=[{"key": "big", "value": {"string_bytes": 102400}}])
hcase("header-100-kb-string-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "big", "value": {"string_bytes": 102400}}])
hcase("header-odd-value-kinds", text(status("corpus-h-kinds")), APPLIED,
      headers=[{"key": "f", "value": {"double": "nan"}}, {"key": "g", "value": {"float": "-inf"}},
               {"key": "d", "value": {"decimal": [255, 4294967295]}}, {"key": "v", "value": {"void": True}},
               {"key": "b", "value": {"bytes_hex": "c328ff00"}}, {"key": "t", "value": {"timestamp": "0"}},
               {"key": "u8", "value": {"uint8": 255}}, {"key": "i16", "value": {"int16": -32768}}],
      broker="refuses", note="RabbitMQ 3.10 closes the publisher's channel (its table parser has no clause for one of "
                             "these kinds): the message never reaches the worker")
hcase("header-forged-event-id-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      headers=[{"key": "x-lode-event-id", "value": {"string": "someone-elses-event"}}],
      note="the dead letter must not carry the forged x-lode-event-id (the body has no id)")
hcase("property-type-255-bytes", text(status("corpus-p-type")), APPLIED, properties={"type": {"repeat_text": "t", "count": 255}})
hcase("property-app-id-control-characters", text(status("corpus-p-app")), APPLIED, properties={"app_id": "dept\u0000\u001b[2J\r\nx"})
hcase("property-message-id-control-characters-on-invalid-body", invalid, rejected("invalid_json", "JSON"),
      properties={"message_id": "m\u0000\u001b]0;title\u0007\r\n"})
hcase("property-timestamp-max", text(status("corpus-p-time")), APPLIED, properties={"timestamp": "18446744073709551615"})
hcase("property-type-disagrees-with-body", text(status("corpus-p-disagree")), APPLIED,
      properties={"type": "zone.project.registered", "app_id": "someone-else", "message_id": "other-id"})


def main():
    check = "--check" in sys.argv[1:]
    names = [entry["name"] for entry, _ in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    wanted = {}
    for entry, body in cases:
        wanted[entry["body"]] = body
    manifest = {
        "about": "Bad-input corpus of Lodestone (issue 11). Each case: a message body (file under this folder), "
                 "its content type, properties and headers, and the outcome expected: 'applied', a rejection "
                 "{reason, mentions} of the whole message, or for a batch {elements: [...]} one per event. "
                 "'publisher' is what lode-publish --check does with the body as an NDJSON file when it differs "
                 "from 'expect' ('skip': not an NDJSON case); 'broker': 'refuses' marks a message RabbitMQ itself "
                 "refuses. Written by generate.py.",
        "cases": [entry for entry, _ in cases],
    }
    wanted["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()
    stale = []
    for relative, body in wanted.items():
        path = os.path.join(ROOT, relative)
        current = open(path, "rb").read() if os.path.exists(path) else None
        if current != body:
            stale.append(relative)
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(body)
    for kind in ("events", "batches"):
        folder = os.path.join(ROOT, kind)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if f"{kind}/{name}" not in wanted:
                stale.append(f"{kind}/{name}")
                if not check:
                    os.remove(os.path.join(folder, name))
    if check and stale:
        print("Tests/Corpus is not what generate.py writes: " + ", ".join(stale[:10]), file=sys.stderr)
        sys.exit(1)
    print(f"{len(cases)} cases" + ("" if check else f", {len(stale)} files written or removed"))


if __name__ == "__main__":
    main()
