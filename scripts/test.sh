#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian machine too:
# set everything up (scripts/setup.sh: system packages, Rust, .venv, npm),
# build, run the Rust tests (unit, codec fixtures, emulator, and the Kafka
# integration tests against a real broker), the Python and Node.js SDK
# interop suites, and finally prove the README's two commands from a clean
# clone (scripts/clean_clone_check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build --locked --bins
# Benches are measurements, not tests: `cargo bench` runs them.
cargo test --locked --lib --bins --tests -- --test-threads=2
.venv/bin/python -m pytest tests/interop -q
(cd tests/interop-node && node --test --test-concurrency=1)
scripts/clean_clone_check.sh
