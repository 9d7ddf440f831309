#!/usr/bin/env bash
# Screenshots of every view of a running Levels, signed in, into docs/screens/:
#   scripts/run.sh            # in another terminal; let the demo run ~30 minutes so the
#   scripts/screenshots.sh    # charts have a history, then take the pictures
#   scripts/screenshots.sh http://host:8080   # another instance
#     (LEVELS_SHOT_USER / LEVELS_SHOT_PASSWORD: an account there; default the demo's)
# Each view at 1920×1080 (a control-room screen), and the discharge view at 1024×768
# (a tablet). Drives chromium through chromedriver, which scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo run -q -p levels-tests --example screenshots -- "${1:-http://127.0.0.1:8080}"
