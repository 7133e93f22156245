#!/usr/bin/env bash
# Installs jemalloc (Debian's libjemalloc2), which the worker launchers preload
# (lib/worker-node-flags.ts, OTP_WORKER_ALLOCATOR=auto): under load a worker's
# RSS stays flat on it where glibc's malloc ratchets up (docs/operations.md,
# "Worker memory"). Idempotent. It needs root and apt-get; without them it says
# so and exits 0, and workers run on glibc's malloc.
set -euo pipefail
PKG=libjemalloc2
if [[ "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null)" == "install ok installed" ]]; then echo "jemalloc present ($PKG)"; exit 0; fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install-jemalloc: not root, or no apt-get: workers run on glibc's malloc (install $PKG, or your distribution's jemalloc)" >&2
  exit 0
fi
# A stale package list is the usual reason apt cannot find the package: refresh once and retry.
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$PKG" >/dev/null; }
apt_install || { apt-get update -qq && apt_install; }
echo "jemalloc installed ($PKG)"
