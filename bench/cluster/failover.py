#!/usr/bin/env python3
"""failover.py: how long consumption stops when the node holding lode.work's leader goes away.

Run by bench/cluster-failover.sh (which builds the release binaries and starts the cluster);
see that script for what it measures. Arguments: --bin DIR --count N --live M --batch-size B
--rounds R --mode kill|stop|both. The cluster is scripts/cluster's, with the environment's
LODE_CLUSTER_* settings.

One round:
  1. every node up; `lodectl setup`; lode.work and lode.dead purged; the node that leads
     lode.work is found (`scripts/cluster leader lode.work`), and the URL list is ordered with it
     first, so the worker and the live publisher connect to the leader's node;
  2. a backlog of N site visits (distinct ids) published, all confirmed (exit 0);
  3. lode-worker started on a fresh SQLite file; its /metrics sampled every 20 ms;
  4. once a quarter of the backlog is consumed: a live lode-publish of M more site visits (one
     per message) starts; once the leader node's connections were listed (the table's "clients
     on it" says whether both the publisher and the worker were there), that node is killed
     (SIGKILL) or stopped (scripts/cluster stop);
  5. the live publisher ends 0, or 75 and a re-run ends 0 (every event confirmed);
  6. the worker drains lode.work; `lodectl report` must count N + M site visits: no confirmed
     event lost, none counted twice.

Figures of a round: resume = from the SIGKILL (or from the start of `scripts/cluster stop`,
which begins the clean shutdown a moment later) to the first sample after the worker
noticed the loss (lode_worker_reconnects_total{cause="connection_lost"}) in which
lode_worker_events_consumed_total grew again: consumption through another node; pause = from
the last delivery consumed through the lost node to that first one through another. Baseline of
the same round: the longest gap between two increases of that counter in the 3 s before the
kill (how long consumption pauses anyway between batches), and the consume rates before and
after.
"""
import argparse, json, os, re, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(ROOT, "scripts", "cluster")


def cluster(*args, check=True):
    done = subprocess.run([CLUSTER, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"failover.py: scripts/cluster {' '.join(args)} failed ({done.returncode}): {done.stderr}{done.stdout}")
    return done.stdout.strip()


def visits(path, first, count):
    with open(path, "w", encoding="utf-8") as out:
        for n in range(first, first + count):
            day, minute = 1 + n % 28, n % 1440
            out.write(json.dumps({
                "specversion": "1.0", "id": f"bench-visit-{n}", "source": "bt-investment-bureau/crm",
                "type": "zone.recruitment.site_visit", "time": f"2024-03-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00+08:00",
                "data": {"enterprise": f"包头市第{n % 3000}号稀土永磁科技有限公司", "campaign": "2024-百日攻坚招商行动", "visitors": 1 + n % 9},
            }, ensure_ascii=False) + "\n")


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Sampler(threading.Thread):
    """Scrapes the worker's /metrics every 20 ms: (time, consumed, applied, connection losses)."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.samples, self.running = base, [], True

    def run(self):
        while self.running:
            try:
                text = urllib.request.urlopen(self.base + "/metrics", timeout=2).read().decode()
                self.samples.append((time.monotonic(), metric_sum(text, "lode_worker_events_consumed_total"),
                                     metric_sum(text, "lode_worker_events_applied_total"),
                                     metric_sum(text, 'lode_worker_reconnects_total{cause="connection_lost"}')))
            except OSError:
                pass
            time.sleep(0.02)

    def latest(self):
        return self.samples[-1] if self.samples else (time.monotonic(), 0, 0, 0)


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    sys.exit(f"failover.py: timed out after {timeout}s waiting for {what}")


def run_round(args, mode, number, work):
    cluster("start")
    urls = cluster("url").split(",")
    env = dict(os.environ, LODE_AMQP_URL=",".join(urls))
    subprocess.run([f"{args.bin}/lodectl", "setup"], env=env, check=True, capture_output=True)
    for queue in ("lode.work", "lode.dead"):
        cluster("ctl", "1", "-q", "purge_queue", queue)
    leader = int(cluster("leader", "lode.work"))
    ordered = [urls[leader - 1]] + [u for i, u in enumerate(urls) if i != leader - 1]
    env["LODE_AMQP_URL"] = ",".join(ordered)

    backlog, live = f"{work}/backlog.ndjson", f"{work}/live.ndjson"
    visits(backlog, 0, args.count)
    visits(live, args.count, args.live)
    publish = [f"{args.bin}/lode-publish", "--batch-size", str(args.batch_size), "--json"]
    filled = subprocess.run(publish + [backlog], env=env, capture_output=True, text=True)
    if filled.returncode != 0:
        sys.exit(f"failover.py: filling the backlog failed: {filled.stderr}")

    db = f"{work}/zone-{number}.sqlite"
    log = open(f"{work}/worker-{number}.log", "w+")
    worker = subprocess.Popen([f"{args.bin}/lode-worker", "--db", db, "--metrics-address", "127.0.0.1:0"],
                              env=env, stderr=log, stdout=subprocess.DEVNULL)
    try:
        return drive(args, mode, env, leader, publish, live, db, log, worker)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        cluster("start")


def drive(args, mode, env, leader, publish, live, db, log, worker):
    sampler = Sampler(f"http://127.0.0.1:{metrics_port(log)}")
    sampler.start()
    total = args.count + args.live
    wait(lambda: sampler.latest()[1] >= args.count // 4, 300, "a quarter of the backlog consumed")

    # One event per message: a live publisher still busy when the node goes.
    live_publish = publish + ["--no-batch", live]
    live_run = subprocess.Popen(live_publish, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The live publisher and the worker are connected to the leader's node (the list starts with it).
    clients = cluster("ctl", str(leader), "-q", "list_connections", "client_properties", "--no-table-headers")
    on_leader = {name: name in clients for name in ('"lode-publish"', '"lode-worker on ')}
    if mode == "kill":
        pid = int(cluster("pid", str(leader)))
        stopped_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
    else:
        # From the command's start: the node begins its shutdown somewhat later.
        stopped_at = time.monotonic()
        cluster("stop", str(leader))
    command_took = time.monotonic() - stopped_at
    out, err = live_run.communicate()
    live_status, rerun_status = live_run.returncode, None
    if live_status == 75:
        rerun_status = subprocess.run(live_publish, env=env, capture_output=True, text=True).returncode
    wait(lambda: sampler.latest()[2] >= total, 600, f"all {total} events applied (log {log.name})")
    sampler.running = False
    sampler.join()
    worker.send_signal(signal.SIGTERM)
    worker_status = worker.wait(60)

    samples = sampler.samples
    before_loss = max((s[3] for s in samples if s[0] < stopped_at), default=0)
    noticed = next((i for i, s in enumerate(samples) if s[3] > before_loss), None)
    resume = pause = None
    if noticed is not None:
        base = samples[noticed][1]
        resumed = next((s for s in samples[noticed:] if s[1] > base), None)
        resume = resumed and resumed[0] - stopped_at
        last_progress = next((s for prev, s in reversed(list(zip(samples[:noticed], samples[1:noticed + 1])))
                              if s[1] > prev[1]), None)
        pause = resumed and last_progress and resumed[0] - last_progress[0]
    window = [s for s in samples if stopped_at - 3 <= s[0] < stopped_at]
    increases = [s[0] for prev, s in zip(window, window[1:]) if s[1] > prev[1]]
    normal_gap = max((b - a for a, b in zip(increases, increases[1:])), default=float("nan"))
    rate_before = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]) if len(window) > 1 else float("nan")
    after = [s for s in samples if resume and stopped_at + resume <= s[0] <= stopped_at + resume + 3]
    rate_after = (after[-1][1] - after[0][1]) / (after[-1][0] - after[0][0]) if len(after) > 1 else float("nan")

    report = subprocess.run([f"{args.bin}/lodectl", "report", "--year", "2024", "--json", "--db", db],
                            env=env, capture_output=True, text=True)
    counted = json.loads(report.stdout)["recruitment"]["site_visits"] if report.returncode == 0 else None
    new_leader = cluster("leader", "lode.work", check=False)
    return {
        "mode": mode, "leader": leader, "new_leader": new_leader, "resume_s": resume, "pause_s": pause,
        "normal_gap_s": normal_gap,
        "rate_before": rate_before, "rate_after": rate_after, "command_s": command_took,
        "live_exit": live_status, "rerun_exit": rerun_status, "worker_exit": worker_status,
        "site_visits": counted, "expected": total, "clients_on_leader": on_leader, "live_stderr": err[-600:], "live_stdout": out[-300:],
    }


def single_node(port):
    """scripts/cluster's environment for a one-node "cluster" on `port`: a single broker."""
    return dict(os.environ, LODE_CLUSTER_SIZE="1", LODE_CLUSTER_PORT=str(port), LODE_CLUSTER_MGMT_PORT=str(port + 10000),
                LODE_CLUSTER_NODE_PREFIX="rabbit-single")


def throughput_round(args, target, env_cluster, work, number):
    """One event per message through `target` (its scripts/cluster environment): the publish
    rate (lode-publish --no-batch, confirms) and the worker's drain rate of the same messages."""
    def run_cluster(*a):
        done = subprocess.run([CLUSTER, *a], capture_output=True, text=True, env=env_cluster)
        if done.returncode != 0:
            sys.exit(f"failover.py: scripts/cluster {' '.join(a)} failed: {done.stderr}")
        return done.stdout.strip()
    run_cluster("start")
    env = dict(os.environ, LODE_AMQP_URL=run_cluster("url"))
    nodes = [int(run_cluster("pid", str(n))) for n in range(1, len(env["LODE_AMQP_URL"].split(",")) + 1)]
    cpu_before = broker_cpu(nodes)
    subprocess.run([f"{args.bin}/lodectl", "setup"], env=env, check=True, capture_output=True)
    for queue in ("lode.work", "lode.dead"):
        run_cluster("ctl", "1", "-q", "purge_queue", queue)
    path = f"{work}/through-{number}.ndjson"
    visits(path, 10_000_000 * (number + 1), args.throughput)
    started = time.monotonic()
    done = subprocess.run([f"{args.bin}/lode-publish", "--no-batch", "--json", path], env=env, capture_output=True, text=True)
    published = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"failover.py: publishing to {target} failed: {done.stderr}")
    db = f"{work}/through-{number}.sqlite"
    log = open(f"{work}/through-{number}.log", "w+")
    started = time.monotonic()
    worker = subprocess.Popen([f"{args.bin}/lode-worker", "--db", db, "--metrics-address", "127.0.0.1:0"], env=env,
                              stderr=log, stdout=subprocess.DEVNULL)
    try:
        sampler = Sampler(f"http://127.0.0.1:{metrics_port(log)}")
        sampler.start()
        wait(lambda: sampler.latest()[2] >= args.throughput, 600, f"the worker to drain {target}")
        drain = sampler.latest()[0] - started
        sampler.running = False
        sampler.join()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    broker_us = (broker_cpu(nodes) - cpu_before) * 1e6 / args.throughput
    counted = count_visits(args, db)
    if counted != args.throughput:
        sys.exit(f"failover.py: {target}: the report counts {counted} site visits, not {args.throughput}")
    return {"target": target, "publish_per_s": args.throughput / published, "drain_per_s": args.throughput / drain,
            "broker_cpu_us_per_event": broker_us}


def broker_cpu(pids):
    """CPU seconds (user + system) the nodes' Erlang VMs have used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def metrics_port(log):
    """The port a worker started with --metrics-address 127.0.0.1:0 logs."""
    port = None

    def listening():
        nonlocal port
        log.seek(0)
        found = re.search(r"address=127\.0\.0\.1:(\d+).*metrics listening", log.read())
        port = found and int(found.group(1))
        return port is not None
    wait(listening, 60, "the worker's metrics address")
    return port


def count_visits(args, db):
    report = subprocess.run([f"{args.bin}/lodectl", "report", "--year", "2024", "--json", "--db", db],
                            capture_output=True, text=True)
    return json.loads(report.stdout)["recruitment"]["site_visits"] if report.returncode == 0 else -1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--live", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", choices=["kill", "stop", "both", "none"], default="both")
    parser.add_argument("--single-port", type=int, help="also measure a single node on this AMQP port (management +10000)")
    parser.add_argument("--throughput", type=int, default=20_000, help="events per throughput round (one per message)")
    args = parser.parse_args()
    modes = {"both": ["kill", "stop"], "none": []}.get(args.mode, [args.mode])
    results, speeds = [], []
    with tempfile.TemporaryDirectory(prefix="lode-bench-cluster.") as work:
        for number in range(args.rounds):
            if args.single_port:
                # The same load through the cluster and through a single node, alternated.
                for target, env_cluster in (("cluster", dict(os.environ)), ("single", single_node(args.single_port))):
                    speed = throughput_round(args, target, env_cluster, work, len(speeds))
                    speeds.append(speed)
                    print(json.dumps(speed), file=sys.stderr, flush=True)
            for mode in modes:
                result = run_round(args, mode, len(results), work)
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    if speeds:
        print(f"\none event per message, {args.throughput} events a round, {args.rounds} round(s) alternated: medians")
        print(f"{'target':8} {'publish/s':>10} {'drain/s':>10} {'broker CPU µs/event':>20}")
        for target in ("cluster", "single"):
            pub = statistics.median(s["publish_per_s"] for s in speeds if s["target"] == target)
            drain = statistics.median(s["drain_per_s"] for s in speeds if s["target"] == target)
            cpu = statistics.median(s["broker_cpu_us_per_event"] for s in speeds if s["target"] == target)
            print(f"{target:8} {pub:10.0f} {drain:10.0f} {cpu:20.0f}")
        ratio = lambda key: statistics.median(s[key] for s in speeds if s["target"] == "cluster") / statistics.median(
            s[key] for s in speeds if s["target"] == "single")
        print(f"cluster / single: publish {ratio('publish_per_s'):.2f}, drain {ratio('drain_per_s'):.2f}")
    if not results:
        return
    print(f"\nfailover of lode.work's leader node under load: {args.count} events backlog (batches of "
          f"{args.batch_size}), {args.live} more published live during the failover; quorum queues on "
          f"{len(cluster('url').split(','))} nodes")
    print(f"{'mode':5} {'leader':>6} {'new':>4} {'resume':>8} {'pause':>7} {'usual gap':>10} {'before/s':>9} {'after/s':>9} "
          f"{'clients on it':>13} {'live':>5} {'rerun':>5} {'counted':>8} {'lost':>5}")
    failed = False
    for r in results:
        lost = None if r["site_visits"] is None else r["expected"] - r["site_visits"]
        failed |= lost != 0 or r["resume_s"] is None or r["worker_exit"] != 0 or (r["live_exit"] != 0 and r["rerun_exit"] != 0)
        new = re.sub(r"\D", "", r["new_leader"]) or "?"
        fmt = lambda v, spec: "-" if v is None or v != v else format(v, spec)
        print(f"{r['mode']:5} {r['leader']:>6} {new:>4} {fmt(r['resume_s'], '7.2f')}s {fmt(r['pause_s'], '6.2f')}s "
              f"{fmt(r['normal_gap_s'], '9.2f')}s "
              f"{fmt(r['rate_before'], '9.0f')} {fmt(r['rate_after'], '9.0f')} "
              f"{'both' if all(r['clients_on_leader'].values()) else 'NOT both':>13} {r['live_exit']:>5} "
              f"{fmt(r['rerun_exit'], 'd'):>5} {fmt(r['site_visits'], 'd'):>8} {fmt(lost, 'd'):>5}")
    for mode in modes:
        times = [r["resume_s"] for r in results if r["mode"] == mode and r["resume_s"] is not None]
        if times:
            print(f"{mode}: median resume {statistics.median(times):.2f} s over {len(times)} round(s) (target: within 10 s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
