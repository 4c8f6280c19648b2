#!/usr/bin/env bash
# bench/c-baseline/build.sh: build the C speed baseline (lode-c-baseline).
set -euo pipefail

PROG=build.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/lode-c-baseline.c

usage() {
  cat <<EOF
Usage: bench/c-baseline/$PROG [OUTPUT]

Compiles lode-c-baseline.c with cc -O2 against librabbitmq (pkg-config).
OUTPUT defaults to bench/c-baseline/.out/lode-c-baseline.
Needs: a C compiler (cc), pkg-config, librabbitmq-dev (scripts/bootstrap).
EOF
}

case $# in
  0) OUT=$HERE/.out/lode-c-baseline ;;
  1) case $1 in
       -h|--help) usage; exit 0 ;;
       -*) usage >&2; echo "$PROG: error: unknown option '$1'" >&2; exit 2 ;;
       *) OUT=$1 ;;
     esac ;;
  *) usage >&2; echo "$PROG: error: too many arguments" >&2; exit 2 ;;
esac

command -v "${CC:-cc}" >/dev/null 2>&1 || { echo "$PROG: error: no C compiler '${CC:-cc}' on PATH (apt-get install gcc)" >&2; exit 1; }
command -v pkg-config >/dev/null 2>&1 || { echo "$PROG: error: pkg-config not found; run scripts/bootstrap" >&2; exit 1; }
flags=$(pkg-config --cflags --libs librabbitmq 2>/dev/null) \
  || { echo "$PROG: error: librabbitmq not found by pkg-config; run scripts/bootstrap (librabbitmq-dev)" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2086  # $flags is a list of compiler flags
"${CC:-cc}" -O2 -Wall -Wextra -std=c11 -o "$OUT" "$SRC" $flags
echo "$OUT"
