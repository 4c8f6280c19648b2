#!/usr/bin/env python3
"""pika-worker.py: a straightforward Python worker for lode.work (pika + sqlite3), the baseline
of bench/worker.sh. The kind of worker a competent Python developer writes in an afternoon.

What it guarantees (the same as lode-worker's, contract section 3):
- Exactly once: every event id goes into the event log, whose UNIQUE event_id is the inbox;
  an id already there is skipped (the same content) or dead-lettered (other content).
- Nothing is lost: a message is acknowledged only after the transaction holding its events has
  committed (WAL, synchronous=FULL: the commit is on disk). A crash before the commit gives the
  messages back to the queue, and the inbox skips what an earlier commit already applied.
- An event that fails validation goes to lode.dead (with x-lode-reason and x-lode-error,
  published with a confirm) before its message is acknowledged; the other events of its batch
  are applied.
- The same projection tables as lode's store, changed by upserts only, so the result does not
  depend on order or duplicates: latest registration and latest status by (time, id) per
  project, latest investment report by (time, id) per (project, period), recruitment rows
  distinct by (year, campaign, enterprise) / (year, campaign, event id) / (year, industry,
  project), the year taken in the zone's time zone (Asia/Shanghai).

Messages are decoded by content type: application/cloudevents-batch+json is a JSON array of
events, anything else one event. One transaction covers up to --commit-every messages or
--commit-ms milliseconds, whichever comes first; then one basic_ack(multiple=True).

Usage: pika-worker.py --url URL --db FILE [--queue lode.work] [--prefetch 500]
                      [--commit-every 500] [--commit-ms 100]
Stops on SIGTERM or SIGINT after committing and acknowledging what it holds.
"""
import argparse
import json
import signal
import sqlite3
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pika

BATCH_TYPE = "application/cloudevents-batch+json"
ZONE = ZoneInfo("Asia/Shanghai")
CATEGORIES = {"industrial", "strategic_emerging", "rare_earth", "pm_motor", "rare_earth_material", "infrastructure"}
STATUSES = {"signed", "started", "resumed", "suspended", "completed", "in_production", "cancelled"}
# type -> (required data fields, optional data fields)
TYPES = {
    "zone.project.registered": (
        {"project_id", "name", "plan_year", "categories", "new_start", "total_investment", "planned_investment"},
        {"major", "enterprise", "park", "capacity"}),
    "zone.project.status_changed": ({"project_id", "status"}, {"note"}),
    "zone.project.investment_reported": ({"project_id", "period", "completed_investment"}, set()),
    "zone.recruitment.enterprise_contacted": ({"enterprise", "campaign"}, {"industry"}),
    "zone.recruitment.site_visit": ({"enterprise", "campaign"}, {"visitors"}),
    "zone.recruitment.agreement_signed": ({"enterprise", "campaign"}, {"project_id", "intended_investment"}),
    "zone.recruitment.project_introduced": ({"enterprise", "campaign", "project_id", "industry"}, set()),
}

SCHEMA = """
-- The event log and the inbox in one table: the unique event_id is the inbox.
CREATE TABLE IF NOT EXISTS event_log (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  time TEXT NOT NULL,
  event_time INTEGER NOT NULL,   -- microseconds since the epoch
  body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS project_registration (
  project_id TEXT PRIMARY KEY, name TEXT, plan_year INTEGER, categories TEXT, new_start INTEGER,
  total_investment INTEGER, planned_investment INTEGER, major INTEGER, enterprise TEXT, park TEXT,
  capacity TEXT, event_time INTEGER, event_id TEXT);
CREATE TABLE IF NOT EXISTS project_status (
  project_id TEXT PRIMARY KEY, status TEXT, event_time INTEGER, event_id TEXT);
CREATE TABLE IF NOT EXISTS investment_report (
  project_id TEXT, period TEXT, completed_investment INTEGER, event_time INTEGER, event_id TEXT,
  PRIMARY KEY (project_id, period));
CREATE TABLE IF NOT EXISTS recruitment_contact (
  year INTEGER, campaign TEXT, enterprise TEXT, PRIMARY KEY (year, campaign, enterprise));
CREATE TABLE IF NOT EXISTS recruitment_visit (
  year INTEGER, campaign TEXT, event_id TEXT, PRIMARY KEY (year, campaign, event_id));
CREATE TABLE IF NOT EXISTS recruitment_agreement (
  year INTEGER, campaign TEXT, enterprise TEXT, PRIMARY KEY (year, campaign, enterprise));
CREATE TABLE IF NOT EXISTS recruitment_introduction (
  year INTEGER, industry TEXT, project_id TEXT, PRIMARY KEY (year, industry, project_id));
"""

# "Latest by time, ties by the greater id": replace only when (time, id) is greater.
UPSERT_REGISTRATION = """
INSERT INTO project_registration VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project_id) DO UPDATE SET
  name = excluded.name, plan_year = excluded.plan_year, categories = excluded.categories,
  new_start = excluded.new_start, total_investment = excluded.total_investment,
  planned_investment = excluded.planned_investment, major = excluded.major, enterprise = excluded.enterprise,
  park = excluded.park, capacity = excluded.capacity, event_time = excluded.event_time, event_id = excluded.event_id
WHERE (excluded.event_time, excluded.event_id) > (project_registration.event_time, project_registration.event_id)
"""
UPSERT_STATUS = """
INSERT INTO project_status VALUES (?, ?, ?, ?)
ON CONFLICT (project_id) DO UPDATE SET
  status = excluded.status, event_time = excluded.event_time, event_id = excluded.event_id
WHERE (excluded.event_time, excluded.event_id) > (project_status.event_time, project_status.event_id)
"""
UPSERT_INVESTMENT = """
INSERT INTO investment_report VALUES (?, ?, ?, ?, ?)
ON CONFLICT (project_id, period) DO UPDATE SET
  completed_investment = excluded.completed_investment, event_time = excluded.event_time, event_id = excluded.event_id
WHERE (excluded.event_time, excluded.event_id) > (investment_report.event_time, investment_report.event_id)
"""


class Invalid(Exception):
    def __init__(self, reason, message, event_id=None):
        super().__init__(message)
        self.reason, self.event_id = reason, event_id


def is_amount(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10**15


def validate(event):
    """Checks the basics; returns (event_time_us, zone_year)."""
    if not isinstance(event, dict):
        raise Invalid("invalid_event", "an event must be a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise Invalid("invalid_event", "missing id")
    if event.get("specversion") != "1.0":
        raise Invalid("invalid_event", "specversion must be 1.0", event_id)
    if not isinstance(event.get("source"), str) or not event["source"]:
        raise Invalid("invalid_event", "missing source", event_id)
    if event.get("type") not in TYPES:
        raise Invalid("unknown_type", f"unknown type {event.get('type')!r}", event_id)
    try:
        when = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("no offset")
    except (KeyError, AttributeError, ValueError):
        raise Invalid("invalid_event", "time must be RFC 3339 with an offset", event_id)
    data = event.get("data")
    if not isinstance(data, dict):
        raise Invalid("invalid_event", "data must be an object", event_id)
    required, optional = TYPES[event["type"]]
    missing = required - data.keys()
    unknown = data.keys() - required - optional
    if missing or unknown:
        raise Invalid("invalid_event", f"missing {sorted(missing)} unknown {sorted(unknown)}", event_id)
    for key in ("project_id", "enterprise", "campaign", "name", "note", "park", "capacity"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 1000):
            raise Invalid("invalid_event", f"{key} must be a string of at most 1000 characters", event_id)
    for key in ("total_investment", "planned_investment", "completed_investment", "intended_investment"):
        if key in data and not is_amount(data[key]):
            raise Invalid("invalid_event", f"{key} must be an amount in yuan", event_id)
    if "status" in data and data["status"] not in STATUSES:
        raise Invalid("invalid_event", f"unknown status {data['status']!r}", event_id)
    if "industry" in data and data["industry"] not in CATEGORIES:
        raise Invalid("invalid_event", f"unknown industry {data['industry']!r}", event_id)
    if "categories" in data and (not isinstance(data["categories"], list)
                                 or not set(data["categories"]) <= CATEGORIES):
        raise Invalid("invalid_event", "categories must be a list of categories", event_id)
    if "period" in data:
        try:
            year, month = data["period"].split("-")
            if len(year) != 4 or not 1 <= int(month) <= 12:
                raise ValueError
        except (AttributeError, ValueError):
            raise Invalid("invalid_event", "period must be YYYY-MM", event_id)
    event_time_us = int(when.timestamp()) * 1_000_000 + when.microsecond
    return event_time_us, when.astimezone(ZONE).year


class Worker:
    def __init__(self, args):
        self.args = args
        self.db = sqlite3.connect(args.db, isolation_level=None)  # explicit BEGIN / COMMIT
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.conn = pika.BlockingConnection(pika.URLParameters(args.url))
        self.channel = self.conn.channel()
        self.channel.basic_qos(prefetch_count=args.prefetch)
        self.dead = self.conn.channel()  # dead letters, with confirms
        self.dead.confirm_delivery()
        self.pending = []  # delivery tags in the open transaction
        self.opened = None
        self.stop = False
        self.applied = self.duplicates = self.dead_lettered = 0

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: setattr(self, "stop", True))
        timeout = self.args.commit_ms / 1000
        for method, properties, body in self.channel.consume(self.args.queue, inactivity_timeout=timeout):
            if method is not None:
                self.handle(method, properties, body)
            if self.pending and (len(self.pending) >= self.args.commit_every
                                 or time.monotonic() - self.opened >= timeout):
                self.commit()
            if self.stop:
                break
        if self.pending:
            self.commit()
        self.channel.cancel()
        self.conn.close()
        print(json.dumps({"applied": self.applied, "duplicates": self.duplicates,
                          "dead_lettered": self.dead_lettered}), file=sys.stderr)

    def handle(self, method, properties, body):
        if not self.pending:
            self.db.execute("BEGIN IMMEDIATE")
            self.opened = time.monotonic()
        self.pending.append(method.delivery_tag)
        try:
            decoded = json.loads(body)
        except ValueError as e:
            return self.dead_letter(body, properties, Invalid("invalid_json", str(e)))
        if properties.content_type == BATCH_TYPE:
            if not isinstance(decoded, list):
                return self.dead_letter(body, properties, Invalid("invalid_event", "a batch must be a JSON array"))
            for event in decoded:
                raw = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
                self.apply(event, raw, properties)
        else:
            self.apply(decoded, body, properties)

    def apply(self, event, raw, properties):
        try:
            event_time, year = validate(event)
        except Invalid as e:
            return self.dead_letter(raw, properties, e)
        db, data, event_id = self.db, event["data"], event["id"]
        cursor = db.execute(
            "INSERT INTO event_log (event_id, type, source, time, event_time, body) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (event_id) DO NOTHING",
            (event_id, event["type"], event["source"], event["time"], event_time, raw))
        if cursor.rowcount == 0:
            (logged,) = db.execute("SELECT body FROM event_log WHERE event_id = ?", (event_id,)).fetchone()
            if json.loads(logged) == event:
                self.duplicates += 1
            else:
                self.dead_letter(raw, properties, Invalid("conflicting_duplicate",
                                                          "this id was applied with other content", event_id))
            return
        kind = event["type"]
        if kind == "zone.project.registered":
            db.execute(UPSERT_REGISTRATION, (
                data["project_id"], data["name"], data["plan_year"], ",".join(data["categories"]),
                data["new_start"], data["total_investment"], data["planned_investment"], data.get("major", True),
                data.get("enterprise"), data.get("park"), data.get("capacity"), event_time, event_id))
        elif kind == "zone.project.status_changed":
            db.execute(UPSERT_STATUS, (data["project_id"], data["status"], event_time, event_id))
        elif kind == "zone.project.investment_reported":
            db.execute(UPSERT_INVESTMENT, (data["project_id"], data["period"], data["completed_investment"],
                                           event_time, event_id))
        elif kind == "zone.recruitment.enterprise_contacted":
            db.execute("INSERT OR IGNORE INTO recruitment_contact VALUES (?, ?, ?)",
                       (year, data["campaign"], data["enterprise"]))
        elif kind == "zone.recruitment.site_visit":
            db.execute("INSERT OR IGNORE INTO recruitment_visit VALUES (?, ?, ?)", (year, data["campaign"], event_id))
        elif kind == "zone.recruitment.agreement_signed":
            db.execute("INSERT OR IGNORE INTO recruitment_agreement VALUES (?, ?, ?)",
                       (year, data["campaign"], data["enterprise"]))
        else:
            db.execute("INSERT OR IGNORE INTO recruitment_introduction VALUES (?, ?, ?)",
                       (year, data["industry"], data["project_id"]))
        self.applied += 1

    def dead_letter(self, body, properties, error):
        headers = dict(properties.headers or {})
        headers.update({"x-lode-reason": error.reason, "x-lode-error": str(error)[:4000],
                        "x-lode-attempts": 1,
                        "x-lode-first-failed-at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        if error.event_id:
            headers["x-lode-event-id"] = error.event_id
        props = pika.BasicProperties(content_type=properties.content_type, message_id=properties.message_id,
                                     type=properties.type, app_id=properties.app_id, headers=headers,
                                     delivery_mode=2)
        # Blocks until the broker confirms: the dead letter is safe before the ack.
        self.dead.basic_publish("", "lode.dead", body, props, mandatory=True)
        self.dead_lettered += 1

    def commit(self):
        self.db.execute("COMMIT")
        self.channel.basic_ack(self.pending[-1], multiple=True)
        self.pending = []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--queue", default="lode.work")
    parser.add_argument("--prefetch", type=int, default=500)
    parser.add_argument("--commit-every", type=int, default=500, help="messages per transaction at most")
    parser.add_argument("--commit-ms", type=int, default=100, help="longest a transaction stays open")
    args = parser.parse_args()
    Worker(args).run()


if __name__ == "__main__":
    main()
