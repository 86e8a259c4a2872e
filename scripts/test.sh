#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up .venv, build, run the Rust
# tests (unit, codec fixtures, emulator, and the Kafka integration tests
# against a real broker), then the Python and Node.js SDK interop suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --bins
# Benches are measurements, not tests: `cargo bench` runs them.
cargo test --locked --lib --bins --tests -- --test-threads=2
.venv/bin/python -m pytest tests/interop -q
(cd tests/interop-node && node --test --test-concurrency=1)
