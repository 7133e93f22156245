#!/usr/bin/env bash
# Installs a real n8n 2.x (on Node 24) for the end-to-end test and the editor
# screenshot, into a cache outside the checkout, so only the first run pays
# (about 5 minutes and 2.8 GB). Idempotent. Prints the install folder.
#   OTP_N8N_CACHE   cache root (default ~/.cache/n8n-nodes-temporal-otp)
#   OTP_N8N_VERSION n8n version (default 2.40.7)
set -euo pipefail
VERSION="${OTP_N8N_VERSION:-2.40.7}"
ROOT="${OTP_N8N_CACHE:-$HOME/.cache/n8n-nodes-temporal-otp}"
DIR="$ROOT/n8n-$VERSION"
installed() { [[ -x "$DIR/node_modules/.bin/n8n" && -f "$DIR/.complete" ]]; }
if installed; then
  echo "$DIR"
  exit 0
fi
mkdir -p "$DIR"
# Test files that need n8n run in parallel: one installs, the others wait for
# it (two npm installs into one folder break each other's builds).
exec 9>"$ROOT/.install-$VERSION.lock"
flock 9
if installed; then
  echo "$DIR"
  exit 0
fi
cd "$DIR"
cat > package.json <<JSON
{
  "name": "otp-n8n-runtime",
  "private": true,
  "description": "n8n for the tests of n8n-nodes-temporal-otp",
  "overrides": { "linkedom": "0.18.12" }
}
JSON
# A fetch from the registry can fail now and then: each step gets three tries.
try3() {
  local n
  for n in 1 2 3; do
    "$@" && return 0
    echo "install-n8n: attempt $n of 3 failed: $*" >&2
    sleep $((n * 5))
  done
  return 1
}
{
  # Node 24 first, then n8n with it on PATH. Install scripts are skipped: the
  # Kafka client's would download; sqlite3 is rebuilt from source below.
  try3 npm install --no-audit --no-fund --loglevel=error node@24
  export PATH="$DIR/node_modules/.bin:$PATH"
  try3 npm install --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$VERSION"
  try3 npm rebuild sqlite3
} >&2
touch .complete
echo "$DIR"
