#!/usr/bin/env bash
# bench/scaling.sh: workers and stores (issue 12). N events already in lode.work (a quorum queue),
# then K lode-worker processes drain it into one store, from their start to the last commit:
#
#   sqlite-1     one worker on a SQLite file (the baseline: what one machine does today)
#   postgres-1   one worker on PostgreSQL
#   postgres-2   two workers on one PostgreSQL database
#   postgres-4   four workers on one PostgreSQL database
#
# each batched (lode-publish's batches of 500) and one event per message (--no-batch). Every
# run starts from an empty database; the clock stops when the workers together have applied N
# events (their /metrics); then lode.work and lode.dead must be empty and the store must hold
# exactly N events. Rounds alternate the configurations; the table gives medians, ratios, and
# CPU seconds per event of the workers, PostgreSQL (every server process) and the broker.
#
# Usage: bench/scaling.sh [--count N] [--rounds R] [--prefetch P] [--shapes batched,single]
#                         [--configs sqlite-1,postgres-1,postgres-2,postgres-4]
# The prefetch counts messages: 30 batched (15,000 events in flight per worker), 1000 one event
# per message, unless --prefetch sets one for both. With 1000 batched messages of 500 events,
# the first worker to subscribe takes the whole queue and the others idle (docs/scaling.md).
# The broker node is LODE_BROKER_PORT=5690 (as bench/worker.sh) unless set; PostgreSQL is
# scripts/postgres on LODE_POSTGRES_PORT (default 55432), started if needed, database 'bench'.
# Needs: swift, python3 with venv (pika into /tmp/lode-bench-venv), sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=100000 ROUNDS=3 PREFETCH= SHAPES=batched,single CONFIGS=sqlite-1,postgres-1,postgres-2,postgres-4
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --prefetch) PREFETCH=$2; shift 2 ;;
    --shapes) SHAPES=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "scaling.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done
IFS=, read -r -a SHAPE_LIST <<<"$SHAPES"
IFS=, read -r -a CONFIG_LIST <<<"$CONFIGS"

export LODE_BROKER_PORT=${LODE_BROKER_PORT:-5690} LODE_BROKER_MGMT_PORT=${LODE_BROKER_MGMT_PORT:-15690}
export LODE_BROKER_TLS_PORT=${LODE_BROKER_TLS_PORT:-$((LODE_BROKER_PORT - 1))} LODE_BROKER_NODE=${LODE_BROKER_NODE:-bench@localhost}
export LODE_BROKER_DIST_PORT=${LODE_BROKER_DIST_PORT:-$((LODE_BROKER_PORT + 20000))}
scripts/broker status >/dev/null 2>&1 || scripts/broker start >&2
URL=$(scripts/broker url)
BROKER_PID=$(scripts/broker pid)
export LODE_AMQP_URL=$URL
scripts/postgres status >/dev/null 2>&1 || scripts/postgres start >&2
PG_URL_BASE=$(scripts/postgres url)
PG_URL=${PG_URL_BASE%/*}/bench
export LODE_DB_PASSWORD=$(scripts/postgres password)
PG_PID=$(head -n 1 "${LODE_POSTGRES_DIR:-/tmp/lodestone-postgres-${LODE_POSTGRES_PORT:-55432}}/data/postmaster.pid")
FIRST_PORT=$((LODE_BROKER_PORT + 4000))

command -v sqlite3 >/dev/null || { echo "installing sqlite3..." >&2; apt-get install -y -qq sqlite3 >/dev/null; }
PY=$(bench/pika-venv.sh)
echo "building (release)..." >&2
for product in lode-worker lode-publish lodectl; do swift build -c release --product "$product" >/dev/null; done
BIN=.build/release

WORK=$(mktemp -d /tmp/lode-bench-scaling.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
EVENTS=$WORK/events.ndjson
"$PY" bench/publish/make-events.py "$COUNT" "$EVENTS" 2>"$WORK/size"
prefetch_for() { if [[ -n $PREFETCH ]]; then echo "$PREFETCH"; elif [[ $1 == batched ]]; then echo 30; else echo 1000; fi; }
echo "$(cat "$WORK/size"); broker node $LODE_BROKER_NODE on port $LODE_BROKER_PORT; PostgreSQL $PG_URL; prefetch $(prefetch_for batched) batched, $(prefetch_for single) one event per message" >&2
RESULTS=$WORK/results
: >"$RESULTS"

fill() {  # fill SHAPE: an empty lode.work, then the file published into it (confirmed).
  local flags=(); [[ $1 == single ]] && flags=(--no-batch)
  "$BIN/lodectl" setup >/dev/null
  scripts/broker ctl -q purge_queue lode.work >/dev/null
  scripts/broker ctl -q purge_queue lode.dead >/dev/null
  "$BIN/lode-publish" "${flags[@]}" "$EVENTS" >/dev/null 2>"$WORK/publish.err" \
    || { echo "scaling.sh: filling ($1) failed:" >&2; cat "$WORK/publish.err" >&2; exit 1; }
}

fresh_postgres() {
  scripts/postgres psql -d postgres -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" >/dev/null
  scripts/postgres psql -d postgres -c "CREATE DATABASE bench OWNER lode" >/dev/null
  # Migrated before the clock starts, as a deployed database is.
  "$BIN/lodectl" report --year 2024 --db "$PG_URL" >/dev/null
}

run() {  # run CONFIG SHAPE
  local config=$1 shape=$2 kind=${1%-*} workers=${1##*-} out=$WORK/run db
  rm -rf "$out"; mkdir -p "$out"
  if [[ $kind == sqlite ]]; then
    db=$WORK/bench.sqlite; rm -f "$db" "$db-wal" "$db-shm"
    "$BIN/lodectl" report --year 2024 --db "$db" >/dev/null
  else
    db=$PG_URL; fresh_postgres
  fi
  local pg=(); [[ $kind == postgres ]] && pg=(--postgres-pid "$PG_PID")
  local line
  line=$("$PY" bench/scaling/run-workers.py --name "$config" --shape "$shape" --events "$COUNT" --workers "$workers" \
           --broker-pid "$BROKER_PID" "${pg[@]}" --out "$out" --first-port "$FIRST_PORT" -- \
           "$BIN/lode-worker" --db "$db" --prefetch "$(prefetch_for "$shape")") \
    || { echo "scaling.sh: $config ($shape) failed; its stderr:" >&2; tail -n 20 "$out"/stderr.* >&2; exit 1; }
  [[ $line == *'"left_in_queues": []'* ]] || { echo "scaling.sh: $config ($shape) left messages: $line" >&2; exit 1; }
  local logged
  if [[ $kind == sqlite ]]; then
    logged=$(sqlite3 "$db" 'SELECT count(*) FROM event_log')
  else
    logged=$(scripts/postgres psql -d bench -tAc 'SELECT count(*) FROM event_log')
  fi
  [[ $logged == "$COUNT" ]] || { echo "scaling.sh: $config ($shape): $logged events logged, not $COUNT" >&2; exit 1; }
  line=${line%\}},\"logged\":$logged,\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\"}
  echo "$line" | tee -a "$RESULTS" >&2
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  configs=("${CONFIG_LIST[@]}")
  # Every other round in reverse order, so that a drift of the machine's load favours no one.
  if ((round % 2 == 0)); then for ((i = ${#configs[@]} - 1; i >= 0; i--)); do r+=("${configs[i]}"); done; configs=("${r[@]}"); r=(); fi
  for shape in "${SHAPE_LIST[@]}"; do
    for config in "${configs[@]}"; do
      fill "$shape"
      run "$config" "$shape"
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$PY" - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def pick(config, shape): return [r for r in rows if r["client"] == config and r["shape"] == shape]
def med(values): return statistics.median(values) if values else float("nan")
print()
print(f"{'configuration':<12} {'shape':<8} {'events/s':>9} {'runs':<28} {'worker µs/ev':>12} {'postgres µs/ev':>14} {'broker µs/ev':>12} {'retries':>7}")
for shape in ("batched", "single"):
    for config in ("sqlite-1", "postgres-1", "postgres-2", "postgres-4"):
        rs = pick(config, shape)
        if not rs: continue
        per = lambda key: med([r[key] / r["events"] * 1e6 for r in rs])
        runs = "/".join("%.0f" % r["rate"] for r in rs)
        print(f"{config:<12} {shape:<8} {med([r['rate'] for r in rs]):>9.0f} {runs:<28} "
              f"{per('worker_cpu'):>12.1f} {per('postgres_cpu'):>14.1f} {per('broker_cpu'):>12.1f} {sum(r['transaction_retries'] for r in rs):>7.0f}")
print()
for shape in ("batched", "single"):
    one = pick("postgres-1", shape)
    if not one: continue
    base = med([r["rate"] for r in one])
    for config in ("postgres-2", "postgres-4", "sqlite-1"):
        rs = pick(config, shape)
        if rs:
            print(f"{shape}: {config} / postgres-1 = {med([r['rate'] for r in rs]) / base:.2f}")
bad = [r for r in rows if r["dead_lettered"] or r["left_in_queues"] or r["logged"] != r["events"] or any(r["exits"])]
print(f"\nruns with a dead letter, a message left, a missing event or a failed exit: {len(bad)}")
print(f"transaction retries (serialization failures, deadlocks) over all runs: {sum(r['transaction_retries'] for r in rows):.0f}")
# A worker that applied nothing left its share to the others: the prefetch let one take the queue.
idle = [r for r in rows if r["workers"] > 1 and min(r["applied_each"]) == 0]
shares = [min(r["applied_each"]) / r["events"] * r["workers"] for r in rows if r["workers"] > 1]
print(f"runs of several workers where one applied nothing: {len(idle)}"
      + (f"; the least busy worker's share, against an even one: {min(shares):.2f} at worst" if shares else ""))
PY
