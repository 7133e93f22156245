#!/bin/sh
# npm run worker: the built worker with the node flags and environment of lib/worker-node-flags.ts
# (jemalloc when installed, MALLOC_ARENA_MAX, the semi-space size), as npm start and the bench run it.
# The allocator must be chosen before node starts (LD_PRELOAD), hence a shell step and exec, not a node parent.
set -eu
cd "$(dirname "$0")/.."
setup=$(node dist/lib/worker-node-flags.js)
eval "$setup"
: "${WORKER_NODE_FLAGS:?dist/lib/worker-node-flags.js printed no node flags: rebuild with npm run build}"
# shellcheck disable=SC2086 # the flags are words
exec node $WORKER_NODE_FLAGS dist/worker.js "$@"
