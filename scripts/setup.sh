#!/usr/bin/env bash
# Installs whatever Levels needs to build, run and test that is not already here.
# Idempotent: each step checks first and does nothing when the right version is present.
# Downloads only from the package registries (Debian, crates.io, npm).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm first" >&2; exit 1; }

# Debian packages: Chromium and its driver, for the browser tests and screenshots.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# rustfmt and clippy, which the test script runs (a minimal rustup profile lacks them).
installed=$(rustup component list --installed)
for component in rustfmt clippy; do
  if ! grep -q "^$component" <<<"$installed"; then
    say "rustup: adding $component"
    rustup component add "$component"
  fi
done

# The WebAssembly target for the dashboard.
if ! grep -qx wasm32-unknown-unknown <<<"$(rustup target list --installed)"; then
  say "rustup: adding wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Trunk, pinned: newer releases need a newer rustc than this toolchain.
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "cargo: installing trunk $TRUNK_VERSION (about 7 minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! grep -q "^wasm_bindgen = \"$WASM_BINDGEN\"" Trunk.toml; then
  echo "Trunk.toml's [tools] wasm_bindgen must be \"$WASM_BINDGEN\", the version in Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN" ]; then
  say "cargo: installing wasm-bindgen-cli $WASM_BINDGEN (about 2 minutes, once)"
  # Not --locked: its lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN" --force
fi

# Binaryen's wasm-opt from npm; Debian's is too old to read Rust 1.95's output.
if ! node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "npm: installing binaryen $BINARYEN_VERSION"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Every crate, so that Trunk's offline build and the tests need no network.
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
say "setup complete"
