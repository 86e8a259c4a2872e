#!/usr/bin/env bash
# Proves the README's two commands from a clean clone: clones this
# repository's HEAD into a temporary directory (nothing ignored or
# uncommitted comes along: no .venv, no node_modules, no target), runs
# scripts/quickstart.sh there on free loopback ports and checks what it
# printed (3 rows, 1 dead letter, the partitions RUNNING), stops it, and
# runs the set-up of scripts/test.sh there (scripts/setup.sh test). CI runs
# the full test command itself on a clean clone.
#
# The clone builds into target/clean-clone of this checkout, so after the
# first run only what changed is rebuilt (a build cache, not repository
# state).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
CLONE="$TMP/tablestore-sink"
cleanup() {
  if [ -x "$CLONE/scripts/quickstart.sh" ]; then
    "$CLONE/scripts/quickstart.sh" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
git clone --quiet "$REPO" "$CLONE"
echo "clean-clone: cloned $(git -C "$CLONE" rev-parse --short HEAD) into $CLONE"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export CARGO_TARGET_DIR="$REPO/target/clean-clone"
export QUICKSTART_BROKER_PORT=$(free_port) QUICKSTART_TABLESTORE_PORT=$(free_port) QUICKSTART_METRICS_PORT=$(free_port)
cd "$CLONE"
if ! scripts/quickstart.sh >"$TMP/quickstart.out" 2>&1; then
  cat "$TMP/quickstart.out" "$CLONE"/.quickstart/*.log >&2 || true
  echo "clean-clone: scripts/quickstart.sh failed" >&2
  exit 1
fi
expect() {
  grep -qF -- "$1" "$TMP/quickstart.out" || {
    cat "$TMP/quickstart.out" >&2
    echo "clean-clone: the quickstart did not print: $1" >&2
    exit 1
  }
}
expect '(3 row(s) of table "quickstart_orders"'
grep -qE '^tablestore_sink_dead_letter_records_total\{.*reason="invalid_json".*\} 1$' "$TMP/quickstart.out" ||
  { cat "$TMP/quickstart.out" >&2; echo "clean-clone: the poison message is not counted as a dead letter" >&2; exit 1; }
[ "$(grep -c RUNNING "$TMP/quickstart.out")" -ge 1 ] || { cat "$TMP/quickstart.out" >&2; echo "clean-clone: no RUNNING partition" >&2; exit 1; }
scripts/quickstart.sh stop
scripts/setup.sh test >/dev/null
echo "clean-clone: scripts/quickstart.sh and the set-up of scripts/test.sh work from a clean clone"
