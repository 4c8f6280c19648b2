#!/usr/bin/env bash
# bench/amqp-client.sh: the client layer (LodeAMQP) against a plain C program over
# librabbitmq (bench/c-baseline), in the same run, on the local broker.
#
# For each queue type (classic, quorum) and each round, alternating C, then Swift with a batch
# handler, then Swift through the async event stream:
#   publish COUNT persistent SIZE-byte messages with confirms (window 1000) into a fresh queue,
#   then consume them with manual acks (prefetch 500, one basic.ack per message).
# Prints every run as JSON, then the median rates and the Swift/C ratios as a table.
#
# Usage: bench/amqp-client.sh [--count N] [--size BYTES] [--rounds R]
# Needs: the broker (scripts/broker start), a C compiler, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=200000 SIZE=400 ROUNDS=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "amqp-client.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

scripts/broker status >/dev/null || { echo "amqp-client.sh: no broker; run scripts/broker start" >&2; exit 69; }
echo "building (release)..." >&2
bash bench/c-baseline/build.sh >/dev/null
swift build -c release --product lode-bench-amqp >/dev/null
C=bench/c-baseline/.out/lode-c-baseline
S=.build/release/lode-bench-amqp
PORT=$(scripts/broker url | sed -E 's|.*:([0-9]+)/.*|\1|')
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

for type in classic quorum; do
  for ((round = 1; round <= ROUNDS; round++)); do
    for client in c swift swift-stream; do
      queue="bench.$client.$type"
      if [[ $client == c ]]; then
        pub=$($C publish --host 127.0.0.1 --port "$PORT" --queue "$queue" --count "$COUNT" --size "$SIZE" --window 1000 --declare "$type")
        con=$($C consume --host 127.0.0.1 --port "$PORT" --queue "$queue" --count "$COUNT" --prefetch 500)
      else
        mode=handler; [[ $client == swift-stream ]] && mode=stream
        pub=$($S publish --url "$(scripts/broker url)" --queue "$queue" --count "$COUNT" --size "$SIZE" --window 1000 --declare "$type" 2>/dev/null)
        con=$($S consume --url "$(scripts/broker url)" --queue "$queue" --count "$COUNT" --prefetch 500 --mode "$mode" 2>/dev/null)
      fi
      for line in "$pub" "$con"; do
        echo "{\"client\":\"$client\",\"queue_type\":\"$type\",\"round\":$round,\"result\":$line}" | tee -a "$RESULTS"
      done
    done
  done
done

python3 - "$RESULTS" "$COUNT" "$SIZE" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"\n{sys.argv[2]} persistent messages of {sys.argv[3]} bytes, confirms window 1000, prefetch 500; medians of alternating runs")
print("| queue | operation | plain C (msg/s) | LodeAMQP (msg/s) | ratio |")
print("| --- | --- | --- | --- | --- |")
def median(client, queue, op):
    return statistics.median(r["result"]["rate"] for r in rows
                             if r["client"] == client and r["queue_type"] == queue and r["result"]["op"] == op)
for queue in ("classic", "quorum"):
    for op, client, label in (("publish", "swift", "publish with confirms"),
                              ("consume", "swift", "consume, batch handler"),
                              ("consume", "swift-stream", "consume, async stream")):
        c, s = median("c", queue, op), median(client, queue, op)
        print(f"| {queue} | {label} | {c:,.0f} | {s:,.0f} | {s / c:.2f} |")
PY
