#!/usr/bin/env bash
# bench/publish.sh: lode-publish against the plain C baseline and a pika script, in one run, on
# the local broker, each publishing the same events into a quorum queue, timed as whole
# processes (/usr/bin/time).
#
#   lode-publish          (batched, the default)  every event validated, batches of 500
#   lode-publish --no-batch                       every event validated, one message per event
#   lode-c-baseline publish                       one persistent message per event, window 1000
#   lode-c-baseline publish --exchange ... --event-properties
#                                                 the same through the topic exchange, mandatory,
#                                                 with a CloudEvent's properties (like --no-batch)
#   pika-publish.py                               one message per event, confirms (blocking)
#   lode-publish, one event from flags            process start to exit (scripts call it in loops)
#
# Rounds alternate the clients (A B C A B C ...); medians are printed with the ratios to C.
#
# Usage: bench/publish.sh [--count N] [--rounds R] [--pika-count N]
# Needs: the broker (scripts/broker start), a C compiler, python3 with venv (pika is installed
# from PyPI into /tmp/lode-bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=100000 ROUNDS=3 PIKA_COUNT=20000
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --pika-count) PIKA_COUNT=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "publish.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

scripts/broker status >/dev/null || { echo "publish.sh: no broker; run scripts/broker start" >&2; exit 69; }
URL=$(scripts/broker url)
PORT=$(echo "$URL" | sed -E 's|.*:([0-9]+)/.*|\1|')
PY=$(bench/pika-venv.sh)
echo "building (release)..." >&2
bash bench/c-baseline/build.sh >/dev/null
swift build -c release --product lode-publish >/dev/null
C=bench/c-baseline/.out/lode-c-baseline
P=.build/release/lode-publish

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
EVENTS=$WORK/events.ndjson
"$PY" bench/publish/make-events.py "$COUNT" "$EVENTS" 2>"$WORK/size"
SIZE=$(sed -E 's/.* ([0-9]+) bytes.*/\1/' "$WORK/size")
head -n "$PIKA_COUNT" "$EVENTS" > "$WORK/pika.ndjson"
echo "$(cat "$WORK/size"); pika publishes the first $PIKA_COUNT" >&2
EXCHANGE=bench.lode.events
QUEUE=bench.publish.quorum
ONE=(project-status --project BT-17 --status started --exchange "$EXCHANGE")
# The URL holds the password: it goes in the environment, never in --url.
export LODE_AMQP_URL=$URL

RESULTS=$WORK/results
BROKER_PID=$(scripts/broker pid)
TICKS=$(getconf CLK_TCK)
# The broker's CPU time so far (user + system, all its threads), in seconds.
broker_cpu() { awk -v t="$TICKS" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$BROKER_PID/stat"; }
# run NAME EVENTS COMMAND...: a fresh quorum queue, then the command under /usr/bin/time.
run() {
  local name=$1 events=$2; shift 2
  "$PY" bench/publish/topology.py "$URL" "$EXCHANGE" "$QUEUE"
  local cpu0 cpu1
  cpu0=$(broker_cpu)
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" \
    || { echo "publish.sh: $name failed:" >&2; cat "$WORK/err" >&2; exit 1; }
  cpu1=$(broker_cpu)
  read -r wall rss user sys < "$WORK/time"
  local depth
  depth=$("$PY" bench/publish/topology.py "$URL" - "$QUEUE" depth)
  echo "{\"client\":\"$name\",\"events\":$events,\"wall\":$wall,\"max_rss_kb\":$rss,\"client_cpu\":$(awk -v a="$user" -v b="$sys" 'BEGIN { print a + b }'),\"broker_cpu\":$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { print a - b }'),\"queue_depth\":$depth}" | tee -a "$RESULTS"
}

for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round" >&2
  run batched "$COUNT" "$P" --exchange "$EXCHANGE" "$EVENTS"
  run no-batch "$COUNT" "$P" --exchange "$EXCHANGE" --no-batch "$EVENTS"
  # The C baseline publishes to the default exchange into the queue it (re)declares itself.
  run c "$COUNT" "$C" publish --host 127.0.0.1 --port "$PORT" --queue "$QUEUE" --count "$COUNT" --size "$SIZE" --window 1000 --declare quorum
  # Like for like with --no-batch: through the topic exchange, mandatory, a CloudEvent's properties.
  run c-events "$COUNT" "$C" publish --host 127.0.0.1 --port "$PORT" --queue "$QUEUE" --count "$COUNT" --size "$SIZE" --window 1000 \
    --exchange "$EXCHANGE" --routing-key zone.project.status_changed --mandatory --event-properties
  run pika "$PIKA_COUNT" "$PY" bench/publish/pika-publish.py "$URL" "$EXCHANGE" "$WORK/pika.ndjson"
  for _ in 1 2 3 4 5; do run one-event 1 "$P" "${ONE[@]}"; done
done

python3 - "$RESULTS" "$COUNT" "$SIZE" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def med(client, key):
    return statistics.median(r[key] for r in rows if r["client"] == client)
def rate(client):
    return statistics.median(r["events"] / r["wall"] for r in rows if r["client"] == client)
c = rate("c")
print(f"\n{sys.argv[2]} events of ~{sys.argv[3]} bytes into a quorum queue; medians of alternating runs (wall time of the whole process)")
print("| client | events/s | ratio to C | client CPU µs/event | broker CPU µs/event | peak RSS (MB) |")
print("| --- | --- | --- | --- | --- | --- |")
def per_event(client, key):
    return statistics.median(r[key] / r["events"] * 1e6 for r in rows if r["client"] == client)
for client, label in [("batched", "lode-publish (batched, validated)"), ("no-batch", "lode-publish --no-batch (validated)"),
                      ("c", "plain C, one message per event"),
                      ("c-events", "plain C, same wire format as --no-batch"), ("pika", "pika, one message per event")]:
    print(f"| {label} | {rate(client):,.0f} | {rate(client) / c:.2f} | {per_event(client, 'client_cpu'):.1f} "
          f"| {per_event(client, 'broker_cpu'):.1f} | {med(client, 'max_rss_kb') / 1024:.0f} |")
print(f"\n--no-batch against the like-for-like C baseline: {rate('no-batch') / rate('c-events'):.2f}")
print(f"\none event from flags, process start to exit: median {med('one-event', 'wall') * 1000:.0f} ms "
      f"(max {max(r['wall'] for r in rows if r['client'] == 'one-event') * 1000:.0f} ms)")
PY
