#!/usr/bin/env bash
# bench/worker.sh: the worker end to end (issue 4). N events already in lode.work (a quorum
# queue), one consumer, from its process start to its last commit, on a broker node of its own:
#
#   lode-worker, batched         lode.work filled by `lode-publish FILE` (batches of 500)
#   lode-worker, one per message lode.work filled by `lode-publish --no-batch FILE`
#   pika-worker.py, both shapes  a straightforward pika + sqlite3 worker with the same guarantee
#                                (bench/worker/pika-worker.py: inbox, batch commits, ack after)
#   C consume loop               lode-c-baseline consume: the one-per-message fill, same prefetch,
#                                one ack per message, nothing stored: the broker's limit
#   lode-worker, notifying       the same with a rule on every event type, all to a webhook that
#                                never answers (bench/worker/hanging-webhook.py): issue 5's ratio
#   large messages (once)        lode-worker on ~1 MiB batches (--batch-size 1000 of ~1 KiB
#                                events) and on ~60 KiB single events: its peak memory
#
# Each run: `lodectl setup`, purge lode.work and lode.dead, fill, then start the consumer with a
# fresh database; the clock runs from process start until the event log holds N events (polled
# every 20 ms); the consumer is stopped with SIGTERM; then lode.work and lode.dead must be empty
# (basic.get) and the database must hold exactly N logged events. Rounds alternate the clients; the
# table gives medians, ratios, and peak resident memory (VmHWM and sampled VmRSS).
#
# Usage: bench/worker.sh [--count N] [--rounds R] [--prefetch P] [--no-large] [--no-python-batched] [--no-notify]
#                        [--notify-only]   (only lode-worker with and without rules, both shapes, the
#                                           order of the two swapped every round: issue 5's ratio)
#                        [--rebuild]       (after each batched lode-worker run, `lodectl rebuild` of its
#                                           database, timed as a whole process: its events/s against
#                                           the worker's batched rate; with --count 1000000, issue 16's)
# The broker node is LODE_BROKER_PORT=5690, LODE_BROKER_MGMT_PORT=15690, LODE_BROKER_TLS_PORT=5689,
# LODE_BROKER_DIST_PORT=25690, LODE_BROKER_NODE=bench@localhost unless set (started if needed).
# Needs: swift, a C compiler, python3 with venv (pika into /tmp/lode-bench-venv), sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=100000 ROUNDS=3 PREFETCH=1000 LARGE=1 PY_BATCHED=1 NOTIFY=1 BASELINES=1 REBUILD=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --prefetch) PREFETCH=$2; shift 2 ;;
    --no-large) LARGE=0; shift ;;
    --no-python-batched) PY_BATCHED=0; shift ;;
    --no-notify) NOTIFY=0; shift ;;
    --notify-only) NOTIFY=1 BASELINES=0 LARGE=0; shift ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "worker.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

# A node of its own, so that tests restarting the main node cannot interfere.
export LODE_BROKER_PORT=${LODE_BROKER_PORT:-5690} LODE_BROKER_MGMT_PORT=${LODE_BROKER_MGMT_PORT:-15690}
export LODE_BROKER_TLS_PORT=${LODE_BROKER_TLS_PORT:-5689} LODE_BROKER_NODE=${LODE_BROKER_NODE:-bench@localhost}
export LODE_BROKER_DIST_PORT=${LODE_BROKER_DIST_PORT:-$((LODE_BROKER_PORT + 20000))}
scripts/broker status >/dev/null 2>&1 || scripts/broker start >&2
URL=$(scripts/broker url)
PORT=$LODE_BROKER_PORT
BROKER_PID=$(scripts/broker pid)
# The URL holds the password: it goes in the environment, never on a command line.
export LODE_AMQP_URL=$URL

command -v sqlite3 >/dev/null || { echo "installing sqlite3..." >&2; apt-get install -y -qq sqlite3 >/dev/null; }
PY=$(bench/pika-venv.sh)
echo "building (release)..." >&2
bash bench/c-baseline/build.sh >/dev/null
for product in lode-worker lode-publish lodectl; do swift build -c release --product "$product" >/dev/null; done
C=bench/c-baseline/.out/lode-c-baseline
BIN=.build/release

WORK=$(mktemp -d /tmp/lode-bench-worker.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
EVENTS=$WORK/events.ndjson
"$PY" bench/publish/make-events.py "$COUNT" "$EVENTS" 2>"$WORK/size"
SIZE=$(sed -E 's/.* ([0-9]+) bytes.*/\1/' "$WORK/size")
echo "$(cat "$WORK/size"); broker node $LODE_BROKER_NODE on port $PORT; prefetch $PREFETCH" >&2
RESULTS=$WORK/results
: >"$RESULTS"


# fill SHAPE FILE [lode-publish options...]: an empty lode.work, then the file published into it.
fill() {
  local shape=$1 file=$2; shift 2
  "$BIN/lodectl" setup >/dev/null
  scripts/broker ctl -q purge_queue lode.work >/dev/null
  scripts/broker ctl -q purge_queue lode.dead >/dev/null
  # Confirmed and mandatory: exit 0 means every message is in lode.work. (The broker's own queue
  # figures for a quorum queue are refreshed only every few seconds, so they cannot tell.)
  "$BIN/lode-publish" --json "$@" "$file" >"$WORK/publish.json" 2>"$WORK/publish.err" \
    || { echo "worker.sh: filling ($shape) failed:" >&2; cat "$WORK/publish.err" >&2; exit 1; }
  FILLED=$(sed -E 's/.*"messages":([0-9]+).*/\1/' "$WORK/publish.json")
}

# consume CLIENT SHAPE EVENTS KEEP_DB COMMAND...: one timed run (bench/worker/run-one.py); then
# checks the queue is empty and, for a worker, that the database holds exactly EVENTS events.
consume() {
  local client=$1 shape=$2 events=$3 keep=$4; shift 4
  local db=$WORK/$client-$shape.sqlite out=$WORK/run
  rm -rf "$out" "$db" "$db-wal" "$db-shm"; mkdir -p "$out"
  local target=(--db "$db")
  [[ $client == c ]] && target=(--exits)
  [[ $client == lode-worker* ]] && target+=(--metrics "http://127.0.0.1:$METRICS_PORT/metrics")
  local line
  line=$("$PY" bench/worker/run-one.py --name "$client" --shape "$shape" --events "$events" --queue lode.work \
           --broker-pid "$BROKER_PID" --out "$out" "${target[@]}" -- "${@//@DB@/$db}") \
    || { echo "worker.sh: $client ($shape) failed; its stderr:" >&2; tail -n 20 "$out/stderr" >&2; exit 1; }
  local logged=- applied=-
  # The C loop exits right after its last basic.ack, and the quorum queue then takes back the
  # last few dozen of its deliveries as unacknowledged (seen every time, whatever the load): the
  # broker handles the channel's closing before those acks. Timing is unaffected; the workers are
  # stopped long after their last acks, and for them the check is strict.
  [[ $client == c || $line == *'"left_in_queues": []'* ]] \
    || { echo "worker.sh: $client ($shape) left messages: $line" >&2; exit 1; }
  if [[ $client != c ]]; then
    logged=$(sqlite3 "$db" 'SELECT count(*) FROM event_log')
    [[ $logged == "$events" ]] || { echo "worker.sh: $client ($shape): $logged events logged, not $events" >&2; exit 1; }
  fi
  if [[ $client == lode-worker* ]]; then
    applied=$(grep -o 'applied=[0-9]*' "$out/stderr" | tail -n 1 | cut -d= -f2)
    applied=${applied:-?}
  elif [[ $client == python ]]; then
    applied=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["applied"])' "$out/stderr")
  fi
  line=${line%\}},\"logged\":\"$logged\",\"applied\":\"$applied\",\"messages\":$FILLED,\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\"}
  echo "$line" | tee -a "$RESULTS" >&2
  if [[ $REBUILD == 1 && $client == lode-worker && $shape == batched ]]; then
    # The whole process, as an operator runs it: open, replay every logged event, commit.
    /usr/bin/time -f '%e %M' -o "$WORK/rebuild.time" "$BIN/lodectl" rebuild --db "$db" >"$WORK/rebuild.out" \
      || { echo "worker.sh: lodectl rebuild failed" >&2; exit 1; }
    read -r secs peak <"$WORK/rebuild.time"
    echo "{\"client\": \"lodectl-rebuild\", \"shape\": \"batched\", \"events\": $events, \"seconds\": $secs, \"rate\": $(awk -v n="$events" -v s="$secs" 'BEGIN { printf "%.1f", n / (s > 0 ? s : 0.01) }'), \"peak_rss_kb\": $peak}" \
      | tee -a "$RESULTS" >&2
  fi
  [[ $keep == keep ]] && cp "$db" "$WORK/kept-$client-$shape.sqlite" 2>/dev/null || true
  rm -f "$db" "$db-wal" "$db-shm"
}

METRICS_PORT=$((PORT + 5))
WORKER=("$BIN/lode-worker" --db @DB@ --prefetch "$PREFETCH" --metrics-address "127.0.0.1:$METRICS_PORT")
# A rule on every event type, every one to a webhook that never answers.
HANG_PORT=$((PORT + 3))
"$PY" bench/worker/hanging-webhook.py "$HANG_PORT" & HANG_PID=$!
trap 'kill "$HANG_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
{
  printf 'channels:\n  hang:\n    kind: webhook\n    url: http://127.0.0.1:%s/hook\n    secret: bench\nnotifications:\n' "$HANG_PORT"
  for type in project.registered project.status_changed project.investment_reported recruitment.enterprise_contacted \
              recruitment.site_visit recruitment.agreement_signed recruitment.project_introduced; do
    printf '  - name: every-%s\n    event: zone.%s\n    channels: [hang]\n    message: "an event"\n' "${type//./-}" "$type"
  done
} >"$WORK/notify.yaml"
NOTIFYING=("$BIN/lode-worker" --db @DB@ --prefetch "$PREFETCH" --config "$WORK/notify.yaml" --metrics-address "127.0.0.1:$METRICS_PORT")
PYWORKER=("$PY" bench/worker/pika-worker.py --url "$URL" --db @DB@ --prefetch "$PREFETCH" --commit-every "$PREFETCH")
CONSUME=("$C" consume --host 127.0.0.1 --port "$PORT" --queue lode.work --count "$COUNT" --prefetch "$PREFETCH")

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  keep=no; [[ $round == 1 ]] && keep=keep
  # With rules and without, back to back per shape; every other round the other one first.
  for shape in batched single; do
    publish_flags=(); [[ $shape == single ]] && publish_flags=(--no-batch)
    order=(plain notify); [[ $NOTIFY == 1 && $((round % 2)) == 0 ]] && order=(notify plain)
    for variant in "${order[@]}"; do
      fill "$shape" "$EVENTS" "${publish_flags[@]}"
      if [[ $variant == plain ]]; then
        consume lode-worker "$shape" "$COUNT" "$keep" "${WORKER[@]}"
      elif [[ $NOTIFY == 1 ]]; then
        consume lode-worker-notify "$shape" "$COUNT" no "${NOTIFYING[@]}"
      fi
    done
  done
  [[ $BASELINES == 1 ]] || continue
  fill single "$EVENTS" --no-batch
  consume python single "$COUNT" "$keep" "${PYWORKER[@]}"
  if [[ $PY_BATCHED == 1 ]]; then
    fill batched "$EVENTS"
    consume python batched "$COUNT" no "${PYWORKER[@]}"
  fi
  fill single "$EVENTS" --no-batch
  consume c single "$COUNT" no "${CONSUME[@]}"
done

if [[ $LARGE == 1 ]]; then
  echo "large messages (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  # ~1 KiB events in batches of 1,000: messages of ~1 MiB, the contract's largest.
  "$PY" bench/worker/pad-events.py "$EVENTS" "$WORK/large.ndjson" 1040 2>"$WORK/size-large"
  fill large-batched "$WORK/large.ndjson" --batch-size 1000
  consume lode-worker large-batched "$COUNT" no "${WORKER[@]}"
  # ~60 KiB events, one per message (close to the 64 KiB limit of an event).
  HUGE_COUNT=$(( COUNT / 25 < 4000 ? COUNT / 25 : 4000 ))
  head -n "$HUGE_COUNT" "$EVENTS" > "$WORK/huge-src.ndjson"
  "$PY" bench/worker/pad-events.py "$WORK/huge-src.ndjson" "$WORK/huge.ndjson" 60000 2>"$WORK/size-huge"
  fill large-single "$WORK/huge.ndjson" --no-batch
  consume lode-worker large-single "$HUGE_COUNT" no "${WORKER[@]}"
  rm -f "$WORK/large.ndjson" "$WORK/huge.ndjson"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The same projection: row counts of every projection table, lode-worker against pika-worker.py.
if [[ -f $WORK/kept-lode-worker-single.sqlite && -f $WORK/kept-python-single.sqlite ]]; then
  echo >&2
  for table in project_registration project_status investment_report recruitment_contact recruitment_visit \
               recruitment_agreement recruitment_introduction; do
    if [[ $table == recruitment_visit ]]; then
      # lode-worker keeps a count per (year, campaign); the Python worker a row per visit.
      a=$(sqlite3 "$WORK/kept-lode-worker-single.sqlite" "SELECT sum(visits) FROM recruitment_visit_count")
    else
      a=$(sqlite3 "$WORK/kept-lode-worker-single.sqlite" "SELECT count(*) FROM $table")
    fi
    b=$(sqlite3 "$WORK/kept-python-single.sqlite" "SELECT count(*) FROM $table")
    [[ $a == "$b" ]] || { echo "worker.sh: $table: lode-worker has $a rows, pika-worker.py $b" >&2; exit 1; }
    printf '%s=%s ' "$table" "$a"
  done >&2
  echo "(rows, the same in both stores)" >&2
fi

cp "$RESULTS" /tmp/lode-bench-worker-results.jsonl
python3 - "$RESULTS" "$COUNT" "$SIZE" "$PREFETCH" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def pick(client, shape):
    return [r for r in rows if r["client"] == client and r["shape"] == shape]
def rate(client, shape):
    return statistics.median(r["rate"] for r in pick(client, shape))
c = rate("c", "single") if pick("c", "single") else None
print(f"\n{sys.argv[2]} events of ~{sys.argv[3]} bytes in lode.work (quorum), prefetch {sys.argv[4]}; "
      "medians of alternating rounds, process start to last commit")
print("| client | shape | events/s | vs Python (same shape) | vs Python (one per message) | vs C consume | "
      "client CPU µs/event | broker CPU µs/event | peak RSS (MB) | rounds (events/s) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for client, shape, label in [("lode-worker", "batched", "lode-worker"), ("lode-worker", "single", "lode-worker"),
                             ("lode-worker-notify", "batched", "lode-worker, a rule on every event, webhook hanging"),
                             ("lode-worker-notify", "single", "lode-worker, a rule on every event, webhook hanging"),
                             ("python", "batched", "pika + sqlite3"), ("python", "single", "pika + sqlite3"),
                             ("c", "single", "plain C consume loop (no store)"),
                             ("lode-worker", "large-batched", "lode-worker, ~1 MiB batches"),
                             ("lode-worker", "large-single", "lode-worker, ~60 KiB events")]:
    runs = pick(client, shape)
    if not runs:
        continue
    r = rate(client, shape)
    same = f"{r / rate('python', shape):.1f}×" if pick("python", shape) and client != "python" else "–"
    single = f"{r / rate('python', 'single'):.1f}×" if pick("python", "single") else "–"
    cpu = [x["client_cpu"] / x["events"] * 1e6 for x in runs if x["client_cpu"] is not None]
    bcpu = statistics.median(x["broker_cpu"] / x["events"] * 1e6 for x in runs)
    rss = max(x["peak_rss_kb"] for x in runs) / 1024
    each = ", ".join(f"{x['rate']:,.0f}" for x in runs)
    versus_c = f"{r / c:.2f}" if c else "–"
    print(f"| {label} | {shape} | {r:,.0f} | {same} | {single} | {versus_c} | "
          f"{statistics.median(cpu):.1f} | {bcpu:.1f} | {rss:.1f} | {each} |")
stages = ["receive", "decode", "apply", "commit_wait", "sync", "dead_letters", "acknowledge"]
staged = [(c, s) for c, s in [("lode-worker", "batched"), ("lode-worker", "single"), ("lode-worker-notify", "batched"),
                               ("lode-worker-notify", "single")] if any(r.get("stages") for r in pick(c, s))]
if staged:
    print("\nPer-stage budget (µs per event consumed, medians of the rounds; lode_worker_stage_seconds_total): "
          "CPU of the consumer's thread (receive, decode, acknowledge) and of the pipeline's (apply), "
          "the transactions' time off the CPU (commit_wait), and the WAL's fsync on the sync thread, "
          "beside the next batch's apply (sync)")
    print("| worker | shape | " + " | ".join(stages) + " | CPU total | wall µs/event |")
    print("| --- | --- | " + " | ".join("---" for _ in stages) + " | --- | --- |")
    for client, shape in staged:
        runs = [r for r in pick(client, shape) if r.get("stages") and r.get("consumed")]
        per = {st: statistics.median(r["stages"].get(st, 0) / r["consumed"] * 1e6 for r in runs) for st in stages}
        cpu = sum(v for k, v in per.items() if k not in ("commit_wait", "sync", "dead_letters"))
        wall = statistics.median(r["seconds"] / r["events"] * 1e6 for r in runs)
        print(f"| {client} | {shape} | " + " | ".join(f"{per[st]:.2f}" for st in stages) + f" | {cpu:.2f} | {wall:.2f} |")
if pick("lodectl-rebuild", "batched") and pick("lode-worker", "batched"):
    runs = pick("lodectl-rebuild", "batched")
    r = rate("lodectl-rebuild", "batched")
    each = ", ".join(f"{x['rate']:,.0f}" for x in runs)
    print(f"\nlodectl rebuild of the batched worker's database ({runs[0]['events']:,} logged events, whole process): "
          f"{r:,.0f} events/s = {r / rate('lode-worker', 'batched'):.2f}x the worker's batched rate; "
          f"peak RSS {max(x['peak_rss_kb'] for x in runs) / 1024:.1f} MB; rounds {each}")
for shape in ["batched", "single"]:
    if pick("lode-worker-notify", shape) and pick("lode-worker", shape):
        # Also round by round: the two runs of a round are back to back, so they share its load.
        pairs = [n["rate"] / p["rate"] for n, p in zip(pick("lode-worker-notify", shape), pick("lode-worker", shape))]
        print(f"notifying / not notifying ({shape}): {rate('lode-worker-notify', shape) / rate('lode-worker', shape):.2f} "
              f"(medians); per round {', '.join(f'{x:.2f}' for x in pairs)}, median {statistics.median(pairs):.2f}")
PY
