#!/usr/bin/env python3
"""run-one.py: time one consumer of bench/worker.sh from process start to its last commit.

  run-one.py --name NAME --shape SHAPE --events N --queue Q --broker-pid PID --out DIR
             [--db FILE | --exits] -- COMMAND...

Starts COMMAND, then every ~20 ms samples its resident memory (VmRSS) and, with --db, the
number of events in the database's event log (max(seq): its rows are numbered 1, 2, ... and
never deleted, so this is one index lookup, not a count). The clock stops when the log holds N
events (the last commit), or with --exits when the process exits (the C consume loop, which
acknowledges every message and exits after N). Then it reads the peak resident memory (VmHWM)
and CPU time of the process, stops it with SIGTERM, checks with basic.get that the queue and
lode.dead hold nothing (an unacknowledged message would be back in the queue: RabbitMQ's own
queue figures for a quorum queue are refreshed only every few seconds, too late to tell), and
prints one JSON line.
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def stage_seconds(url):
    """lode_worker_stage_seconds_total by stage, and the events consumed, from the worker's /metrics."""
    import re
    import urllib.request
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    stages = {m.group(1): float(m.group(2)) for m in
              re.finditer(r'^lode_worker_stage_seconds_total\{stage="([a-z_]+)"\} ([0-9.e+-]+)$', text, re.M)}
    consumed = sum(float(m.group(1)) for m in
                   re.finditer(r'^lode_worker_events_consumed_total\{[^}]*\} ([0-9.e+-]+)$', text, re.M))
    return stages, consumed


def leftover(url, queues):
    """The queues that still hold a message (basic.get, exact; the message goes back)."""
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    found = [q for q in queues if channel.basic_get(q, auto_ack=False)[0] is not None]
    conn.close()
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--shape", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--broker-pid", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--db")
    p.add_argument("--exits", action="store_true")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--metrics", help="the worker's /metrics URL: its seconds per stage are read before it stops")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command

    broker_cpu0 = cpu_seconds(a.broker_pid)
    t0 = time.monotonic()
    proc = subprocess.Popen(command, stdout=open(f"{a.out}/stdout", "wb"), stderr=open(f"{a.out}/stderr", "wb"))
    rss_peak_sampled = 0
    exited_cpu = exited_hwm = None
    db = None
    done_at = None
    logged = 0
    while done_at is None:
        now = time.monotonic()
        if now - t0 > a.timeout:
            proc.kill()
            raise SystemExit(f"run-one.py: {a.name}: not done after {a.timeout:.0f}s ({logged} events logged)")
        rss_peak_sampled = max(rss_peak_sampled, status_kb(proc.pid, "VmRSS"))
        if a.exits:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                done_at = time.monotonic()
                proc.returncode = os.waitstatus_to_exitcode(status)
                exited_cpu = usage.ru_utime + usage.ru_stime
                exited_hwm = usage.ru_maxrss  # KiB
                break
        else:
            if proc.poll() is not None:
                sys.stderr.write(open(f"{a.out}/stderr").read()[-3000:])
                raise SystemExit(f"run-one.py: {a.name} exited with {proc.returncode} after {logged} events")
            try:
                if db is None and os.path.exists(a.db) and os.path.getsize(a.db) > 0:
                    db = sqlite3.connect(a.db, timeout=1)
                if db is not None:
                    logged = db.execute("SELECT max(seq) FROM event_log").fetchone()[0] or 0
                    if logged >= a.events:
                        done_at = time.monotonic()
                        break
            except sqlite3.OperationalError:
                pass  # not created yet, or locked for a moment
        time.sleep(0.02)
    seconds = done_at - t0
    broker_cpu = cpu_seconds(a.broker_pid) - broker_cpu0
    client_cpu = exited_cpu
    if db is not None:
        db.close()
    hwm = exited_hwm or 0
    stages, consumed = {}, None
    if a.metrics:
        stages, consumed = stage_seconds(a.metrics)
    if proc.returncode is None:
        hwm = status_kb(proc.pid, "VmHWM")
        client_cpu = cpu_seconds(proc.pid)  # including the acks
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit(f"run-one.py: {a.name} did not stop within 60 s of SIGTERM")
    # Every message acknowledged (an unacknowledged one would be back in the queue now that the
    # consumer is gone) and nothing dead-lettered.
    left = leftover(os.environ["LODE_AMQP_URL"], [a.queue, "lode.dead"])
    print(json.dumps({
        "client": a.name, "shape": a.shape, "events": a.events, "seconds": round(seconds, 3),
        "rate": round(a.events / seconds, 1), "peak_rss_kb": max(hwm, rss_peak_sampled),
        "vmhwm_kb": hwm, "sampled_rss_kb": rss_peak_sampled,
        "client_cpu": None if client_cpu is None else round(client_cpu, 3), "broker_cpu": round(broker_cpu, 3),
        "left_in_queues": left, "exit": proc.returncode, "stages": stages, "consumed": consumed,
    }))


if __name__ == "__main__":
    main()
