#!/usr/bin/env bash
# bench/pika-venv.sh: prints the path of a Python with pika (from PyPI), in a virtual environment
# under /tmp that it creates on first use. The benchmarks' Python baselines run with it.
set -euo pipefail
VENV=/tmp/lode-bench-venv
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import pika' 2>/dev/null; then
  echo "creating $VENV with pika..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pika
fi
echo "$VENV/bin/python"
