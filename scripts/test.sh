#!/usr/bin/env bash
# Runs every test of Levels: formatting, lints, unit tests, and the end-to-end tests
# (real server, real SQLite, real websockets, real headless Chromium), then the unit and
# end-to-end tests again against a real PostgreSQL that scripts/postgres.sh installs and
# starts (all but the browser tests, which exercise the dashboard rather than the store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "==> formatting"
cargo fmt --all -- --check
echo "==> lints"
cargo clippy --locked -p levels-shared -p levels -p levels-tests -p levels-bench --all-targets -- -D warnings
cargo clippy --locked -p levels-frontend --target wasm32-unknown-unknown -- -D warnings
echo "==> building the dashboard the browser test loads"
trunk build --release --offline
echo "==> building the server binary the crash test runs and kills"
cargo build --locked -p levels --bin levels
echo "==> tests"
# Each pass runs to the end (--no-fail-fast) and its status is kept, so the closing line
# counts every test of both passes, failures included, and the script exits with the
# runners' status.
status=0
sqlite_log=$(mktemp)
postgres_log=$(mktemp)
cargo test --locked --no-fail-fast -p levels-shared -p levels -p levels-tests -p levels-bench 2>&1 \
  | tee "$sqlite_log" || status=1
echo "==> PostgreSQL"
# A server this run starts is stopped when it ends; one already running is left so.
if ! bash scripts/postgres.sh status; then
  trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi
postgres_url=$(bash scripts/postgres.sh | tail -1)
echo "==> tests against PostgreSQL"
# Required: a test that finds no server fails rather than skipping.
LEVELS_TEST_POSTGRES_URL=$postgres_url LEVELS_TEST_REQUIRE_POSTGRES=1 \
  cargo test --locked --no-fail-fast -p levels -p levels-tests -- --skip browser:: 2>&1 \
  | tee "$postgres_log" || status=1
echo "==> benchmark, quick (docs/performance.md): figures printed; fails only on lost or"
echo "    repeated deltas or a bundle over 400 KB gzipped"
bash scripts/bench.sh --quick || status=1
# Per pass and in all, summed over every test binary. A test of PostgreSQL itself returns
# at once in the SQLite pass, saying "note: … skipped:" (tests/support/database.rs): it is
# counted as skipped there, not as passed. The unit and end-to-end tests run in both passes
# (once per database), so each pass is counted on its own line first.
count() {
  awk '/^test result:/ { p += $4; f += $6 } /note: .* skipped: / { s += 1 }
       END { printf "%d %d %d", p - s, f, s }' "$1"
}
read -r sp sf ss <<<"$(count "$sqlite_log")"
read -r pp pf ps <<<"$(count "$postgres_log")"
echo
echo "SQLite pass: $sp passed, $sf failed, $ss skipped"
echo "PostgreSQL pass: $pp passed, $pf failed, $ps skipped"
if [ "$status" -ne 0 ] && [ $((sf + pf)) -eq 0 ]; then
  echo "no test failed, but a build, a test binary or the quick benchmark did: see above"
fi
echo "tests: $((sp + pp)) passed, $((sf + pf)) failed, $((ss + ps)) skipped"
exit "$status"
