#!/usr/bin/env python3
"""run-workers.py: time K lode-worker processes draining lode.work into one store (bench/scaling.sh).

  run-workers.py --name NAME --shape SHAPE --events N --workers K --broker-pid PID
                 [--postgres-pid PID] --out DIR --first-port P -- COMMAND...

Starts K copies of COMMAND, each with `--metrics-address 127.0.0.1:(P + i)` added, then every
~50 ms reads their /metrics and adds up lode_worker_events_applied_total. The clock runs from
the first start until the workers together have applied N events (each worker counts a batch
after its commit and acks). Then it reads the CPU time of every worker, of the broker (its
Erlang VM) and of PostgreSQL (every process of the server, and the postmaster's reaped
children: backends that ended), stops the workers with SIGTERM, checks with basic.get that
lode.work and lode.dead hold nothing, and prints one JSON line with the rate, the CPU seconds
of each component, the store's transaction retries and the workers' dead letters and
warnings.
"""
import argparse
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run_one", os.path.join(HERE, "..", "worker", "run-one.py"))
run_one = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_one)


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def postgres_cpu(postmaster):
    """CPU seconds of the server: its live processes, and the reaped children of the postmaster."""
    if postmaster is None:
        return 0.0
    total = 0.0
    fields = stat_fields(postmaster)
    total += (int(fields[13]) + int(fields[14])) / TICKS  # cutime, cstime: backends that ended
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = stat_fields(int(entry))
        except (FileNotFoundError, ProcessLookupError):
            continue
        pid = int(entry)
        if pid == postmaster or int(fields[1]) == postmaster:  # ppid
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def metric_sum(text, name):
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M))


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--shape", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--broker-pid", type=int, required=True)
    p.add_argument("--postgres-pid", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--first-port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command

    broker0 = run_one.cpu_seconds(a.broker_pid)
    pg0 = postgres_cpu(a.postgres_pid)
    t0 = time.monotonic()
    procs = []
    for i in range(a.workers):
        procs.append(subprocess.Popen(
            command + ["--metrics-address", f"127.0.0.1:{a.first_port + i}"],
            stdout=open(f"{a.out}/stdout.{i}", "wb"), stderr=open(f"{a.out}/stderr.{i}", "wb")))
    applied = 0
    while True:
        if time.monotonic() - t0 > a.timeout:
            for proc in procs:
                proc.kill()
            raise SystemExit(f"run-workers.py: {a.name}: not done after {a.timeout:.0f}s ({applied} events applied)")
        for i, proc in enumerate(procs):
            if proc.poll() is not None:
                sys.stderr.write(open(f"{a.out}/stderr.{i}").read()[-3000:])
                raise SystemExit(f"run-workers.py: {a.name}: worker {i} exited with {proc.returncode} after {applied} events")
        texts = [scrape(a.first_port + i) for i in range(a.workers)]
        applied_each = [metric_sum(t, "lode_worker_events_applied_total") for t in texts]
        applied = sum(applied_each)
        if applied >= a.events:
            done_at = time.monotonic()
            break
        time.sleep(0.05)
    seconds = done_at - t0
    worker_cpu = [run_one.cpu_seconds(proc.pid) for proc in procs]
    broker_cpu = run_one.cpu_seconds(a.broker_pid) - broker0
    pg_cpu = postgres_cpu(a.postgres_pid) - pg0
    retries = sum(metric_sum(t, "lode_store_transaction_retries_total") for t in texts)
    dead = sum(metric_sum(t, "lode_worker_events_dead_lettered_total") for t in texts)
    store_retried = sum(metric_sum(t, "lode_worker_events_retried_total") for t in texts)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit(f"run-workers.py: {a.name}: a worker did not stop within 60 s of SIGTERM")
    warnings = sum(open(f"{a.out}/stderr.{i}").read().count("warning") + open(f"{a.out}/stderr.{i}").read().count("error")
                   for i in range(a.workers))
    left = run_one.leftover(os.environ["LODE_AMQP_URL"], ["lode.work", "lode.dead"])
    print(json.dumps({
        "client": a.name, "shape": a.shape, "workers": a.workers, "events": a.events, "seconds": round(seconds, 3),
        "rate": round(a.events / seconds, 1), "worker_cpu": round(sum(worker_cpu), 3),
        "applied_each": applied_each,
        "postgres_cpu": round(pg_cpu, 3), "broker_cpu": round(broker_cpu, 3), "transaction_retries": retries,
        "dead_lettered": dead, "store_retried": store_retried, "warnings": warnings, "left_in_queues": left,
        "exits": [proc.returncode for proc in procs],
    }))


if __name__ == "__main__":
    main()
