#!/usr/bin/env bash
# bench/cluster-failover.sh: the cluster target of issue 12. When the node holding lode.work's
# leader goes away under load (a worker consuming a backlog, a publisher publishing), how long
# until consumption resumes through another node, and is any confirmed event lost?
#
# Each round kills (SIGKILL) or stops (clean shutdown) the leader's node while lode-worker
# consumes a backlog of site visits and lode-publish publishes more; the worker and the live
# publisher are connected to that very node (the URL list starts with it). Prints, per round:
# the resume time (from the kill/stop command to the first delivery consumed through another
# node), the longest pause between deliveries in the 3 s before (the baseline), the consume
# rate before and after, the live publisher's exit (0, or 75 and a re-run's), and whether the
# report counts every event exactly once. Details: bench/cluster/failover.py.
#
# With --single-port P, each round first measures the cost of the cluster against a single node
# (a one-node scripts/cluster on AMQP port P, management P+10000, started if needed): the same
# K events (--throughput K), one per message, published with confirms (lode-publish --no-batch)
# and drained by lode-worker, through the cluster and through the single node, alternated.
#
# Usage: bench/cluster-failover.sh [--count N] [--live M] [--batch-size B] [--rounds R]
#                                  [--mode kill|stop|both|none] [--single-port P] [--throughput K]
# The cluster is scripts/cluster's (LODE_CLUSTER_PORT, default 5680; LODE_CLUSTER_MGMT_PORT,
# default 15680), started if needed and left running. Needs: swift, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

case ${1:-} in -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

scripts/cluster status >/dev/null 2>&1 || scripts/cluster start >&2
echo "building (release)..." >&2
for product in lode-worker lode-publish lodectl; do swift build -c release --product "$product" >/dev/null; done
exec python3 bench/cluster/failover.py --bin .build/release "$@"
