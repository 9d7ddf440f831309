#!/usr/bin/env bash
# Screenshots of every view of a running Levels, for docs/screens/ and the README:
#   scripts/run.sh            # in another terminal; let the demo run ~30 minutes so the
#   scripts/screenshots.sh    # charts have a history, then take the pictures
#   scripts/screenshots.sh http://host:8080   # another instance
# Each view at 1920×1080 (a control-room screen), and the discharge view at 1024×768
# (a tablet). Needs chromium, which scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-http://127.0.0.1:8080}"
out=docs/screens
mkdir -p "$out"
shoot() { # name, path, width, height
  local profile
  profile="$(mktemp -d)"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --virtual-time-budget=10000 \
    --window-size="$3,$4" --screenshot="$out/$1.png" "$base$2" 2>/dev/null
  rm -rf "$profile"
  echo "$out/$1.png  ($3×$4)  $base$2"
}
shoot control-room / 1920 1080
shoot system "/system" 1920 1080
shoot system-site "/system?entity=site:MPH" 1920 1080
shoot discharge "/discharge?pathway=P3" 1920 1080
shoot discharge-tablet "/discharge" 1024 768
shoot community /community 1920 1080
shoot site /sites/MPH 1920 1080
