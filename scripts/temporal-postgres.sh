#!/usr/bin/env bash
# A real Temporal server (built from source) on PostgreSQL 15, for benchmarks
# and tests against the engine users run in production. Everything it makes
# lives in .tools/ (gitignored); the databases live in the local PostgreSQL.
#   bash scripts/temporal-postgres.sh [start]  set up if needed, start, print TEMPORAL_ADDRESS
#   bash scripts/temporal-postgres.sh stop     stop the server (PostgreSQL keeps running)
#   bash scripts/temporal-postgres.sh status   exit 0 if the frontend answers, 3 if not
# Idempotent: each step (apt install, cluster start, role, databases, schema,
# binaries, namespace, search attributes) runs only when it is not done yet.
# Settings: TEMPORAL_PG_PORT (gRPC frontend, default 7333; every other server
# port moves by TEMPORAL_PG_PORT-7233 from Temporal's defaults),
# TEMPORAL_PG_VERSION (15) and TEMPORAL_PG_CLUSTER (main) for the PostgreSQL
# cluster. The first run builds the server with Go (about 5 min on 2 cores).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DIR="$TOOLS/temporal-postgres"
GOBIN_DIR="$TOOLS/go/bin"
SERVER="$GOBIN_DIR/server"
SQLTOOL="$GOBIN_DIR/sql"
LOG="$DIR/server.log"
PIDFILE="$DIR/server.pid"
ADDRFILE="$DIR/server.address"
CLI="${TEMPORAL_CLI_PATH:-$TOOLS/bin/temporal}"
VERSION="1.29.1"
MODULE="go.temporal.io/server"
PORT="${TEMPORAL_PG_PORT:-7333}"
PG_VERSION="${TEMPORAL_PG_VERSION:-15}"
PG_CLUSTER="${TEMPORAL_PG_CLUSTER:-main}"
NAMESPACE="default"
# The session's search attributes: contract/search-attributes.ts (test/unit/search-attributes.test.ts keeps this list equal to it).
SEARCH_ATTRIBUTES=(OtpTenant=Keyword OtpProfile=Keyword OtpPurpose=Keyword OtpStatus=Keyword OtpChannel=Keyword OtpCountryCode=Keyword OtpDelivery=Keyword OtpCodeExpiresAt=Datetime)
ADDRESS="127.0.0.1:$PORT"
# Temporal's default ports; ours are these plus SHIFT (frontend gRPC = PORT).
DEFAULT_PORTS=(7233 7234 7235 7239 7243 6933 6934 6935 6939 7936 8000)

say() { echo "temporal-postgres: $*"; }
die() { echo "temporal-postgres: error: $*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "TEMPORAL_PG_PORT=$PORT is not a port number"
SHIFT=$((PORT - 7233))
(( SHIFT != 0 )) || die "TEMPORAL_PG_PORT=7233 would collide with a dev server; pick another port"
for p in "${DEFAULT_PORTS[@]}"; do
  (( p + SHIFT > 1024 && p + SHIFT < 65536 )) || die "TEMPORAL_PG_PORT=$PORT moves port $p to $((p + SHIFT)), out of range"
done

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}
as_postgres() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"
  else as_root -u postgres "$@"
  fi
}

# ---------------------------------------------------------------- server process

server_pid() {
  # Prints the pid if the pid file names a live process running our binary.
  [[ -f "$PIDFILE" ]] || return 1
  local pid exe
  pid="$(cat "$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  [[ "$exe" == "$SERVER" || "$exe" == "$SERVER (deleted)" ]] || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

healthy() { "$CLI" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }

# Names the address the running server was started with when it is not ours.
other_address() {
  local a
  a="$(cat "$ADDRFILE" 2>/dev/null || true)"
  [[ -n "$a" && "$a" != "$ADDRESS" ]] && echo " (it was started on $a: set TEMPORAL_PG_PORT=${a##*:})"
  return 0
}

cmd_stop() {
  local pid
  if ! pid="$(server_pid)"; then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; say "stopped (pid $pid)"; return 0; }
    sleep 0.5
  done
  say "pid $pid did not stop within 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    [[ -x "$CLI" ]] || die "server process $pid is running, but the Temporal CLI to ask it is missing at $CLI (run: bash scripts/install-temporal.sh)"
    if healthy; then
      say "running (pid $pid), frontend answers on $ADDRESS; log $LOG"
      echo "TEMPORAL_ADDRESS=$ADDRESS"
      return 0
    fi
    say "process running (pid $pid) but frontend on $ADDRESS does not answer$(other_address); see $LOG"
    return 3
  fi
  say "not running"
  return 3
}

# ---------------------------------------------------------------- setup steps

ensure_go() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  fi
  if ! command -v go >/dev/null; then
    say "Go not found; installing golang-go with apt"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null \
      || die "apt-get install golang-go failed; install Go >= 1.21 (https://go.dev/dl) and put it on PATH"
  fi
  # Temporal $VERSION needs Go 1.25; Go >= 1.21 fetches that toolchain itself.
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
  local minor
  minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  [[ "$minor" =~ ^[0-9]+$ && "$minor" -ge 21 ]] \
    || die "$(go env GOVERSION) is too old to build Temporal $VERSION; install Go >= 1.21 (https://go.dev/dl)"
}

module_dir() {
  local dir
  dir="$(go env GOMODCACHE)/$MODULE@v$VERSION"
  if [[ ! -d "$dir/schema" ]]; then
    say "downloading $MODULE@v$VERSION sources (schema and config templates)"
    GOFLAGS=-mod=mod go mod download "$MODULE@v$VERSION" >&2 \
      || die "go mod download $MODULE@v$VERSION failed"
  fi
  [[ -d "$dir/schema/postgresql/v12" ]] || die "$dir/schema/postgresql/v12 missing after download"
  echo "$dir"
}

# Reuse a binary already built from the same module version (e.g. in ~/go/bin).
is_our_build() {
  local info
  info="$(go version -m "$1" 2>/dev/null)" || return 1
  grep -qE "^[[:space:]]+mod[[:space:]]+${MODULE//./\\.}[[:space:]]+v${VERSION//./\\.}([[:space:]]|\$)" <<<"$info"
}

ensure_binary() {
  local name="$1" pkg="$2" candidate
  [[ -x "$GOBIN_DIR/$name" ]] && is_our_build "$GOBIN_DIR/$name" && return 0
  mkdir -p "$GOBIN_DIR"
  candidate="$(go env GOPATH | cut -d: -f1)/bin/$name"
  if [[ -x "$candidate" ]] && is_our_build "$candidate"; then
    say "reusing $candidate"
    cp -f "$candidate" "$GOBIN_DIR/$name"
    return 0
  fi
  say "building $pkg@v$VERSION into $GOBIN_DIR (first time: several minutes)"
  local t0=$SECONDS
  GOBIN="$GOBIN_DIR" GOFLAGS=-mod=mod go install "$pkg@v$VERSION" \
    || die "go install $pkg@v$VERSION failed (needs the Go module proxy or a filled module cache)"
  say "built $name in $((SECONDS - t0)) s"
}

pg_cluster_field() { pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $'"$1"'}'; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    say "PostgreSQL not found; installing postgresql-$PG_VERSION with apt"
    as_root apt-get update -qq || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_VERSION" >/dev/null \
      || die "apt-get install postgresql-$PG_VERSION failed"
  fi
  if [[ -z "$(pg_cluster_field 2)" ]]; then
    say "creating PostgreSQL cluster $PG_VERSION/$PG_CLUSTER"
    as_root pg_createcluster "$PG_VERSION" "$PG_CLUSTER" >/dev/null \
      || die "pg_createcluster $PG_VERSION $PG_CLUSTER failed"
  fi
  if [[ "$(pg_cluster_field 4)" != online ]]; then
    say "starting PostgreSQL cluster $PG_VERSION/$PG_CLUSTER"
    as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start \
      || die "pg_ctlcluster $PG_VERSION $PG_CLUSTER start failed; see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  fi
  PG_PORT="$(pg_cluster_field 3)"
  [[ -n "$PG_PORT" ]] || die "cannot read the port of PostgreSQL cluster $PG_VERSION/$PG_CLUSTER from pg_lsclusters"
}

psql_admin() { as_postgres psql -X -q -t -A -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }

sql_tool() {
  local db="$1"; shift
  "$SQLTOOL" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u temporal --pw temporal --db "$db" "$@" \
    >>"$DIR/setup.log" 2>&1 || die "sql --db $db $* failed; see $DIR/setup.log"
}

ensure_databases() {
  local mod="$1" db dir latest current
  if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'temporal'")" != 1 ]]; then
    say "creating PostgreSQL role temporal"
    psql_admin -c "CREATE ROLE temporal LOGIN CREATEDB PASSWORD 'temporal'" || die "CREATE ROLE temporal failed"
  fi
  for db in temporal temporal_visibility; do
    case "$db" in
      temporal) dir="$mod/schema/postgresql/v12/temporal/versioned" ;;
      *) dir="$mod/schema/postgresql/v12/visibility/versioned" ;;
    esac
    if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
      say "creating database $db"
      sql_tool "$db" create-database
    fi
    if [[ "$(psql_admin -d "$db" -c "SELECT to_regclass('public.schema_version') IS NOT NULL")" != t ]]; then
      say "setting up schema of $db"
      sql_tool "$db" setup-schema -v 0.0
    fi
    latest="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'v*' -printf '%f\n' | sed 's/^v//' | sort -V | tail -1)"
    [[ -n "$latest" ]] || die "no versioned schema directories in $dir"
    current="$(psql_admin -d "$db" -c "SELECT curr_version FROM schema_version LIMIT 1")"
    if [[ "$current" != "$latest" ]]; then
      say "updating schema of $db from ${current:-none} to $latest"
      sql_tool "$db" update-schema -d "$dir"
    fi
  done
}

# Maps Temporal's default ports (and PostgreSQL's 5432) to ours in one pass.
shift_ports() {
  local expr="" p
  for p in "${DEFAULT_PORTS[@]}"; do expr+="s/@@$p@@/$((p + SHIFT))/g;"; done
  sed -E "s/\b($(IFS='|'; echo "${DEFAULT_PORTS[*]}"))\b/@@\1@@/g" \
    | sed -E "s/localhost:@@/127.0.0.1:@@/g; $expr; s/127\.0\.0\.1:5432\b/127.0.0.1:$PG_PORT/g"
}

write_config() {
  local mod="$1" cfg="$DIR/config" dyn="$DIR/config/dynamicconfig/development-sql.yaml"
  mkdir -p "$cfg/dynamicconfig"
  { shift_ports <"$mod/config/development-postgres12.yaml" \
      | sed -E "s#^(  filepath: ).*development-sql\.yaml\"?#\1\"$dyn\"#"
    grep -q '^publicClient:' "$mod/config/development-postgres12.yaml" \
      || printf '\npublicClient:\n  hostPort: "%s"\n' "$ADDRESS"
  } >"$cfg/development.yaml.new"
  grep -q "grpcPort: $PORT\$" "$cfg/development.yaml.new" || die "generated config has no frontend grpcPort $PORT"
  grep -q "\"$dyn\"" "$cfg/development.yaml.new" || die "generated config does not point at $dyn"
  mv "$cfg/development.yaml.new" "$cfg/development.yaml"

  shift_ports <"$mod/config/dynamicconfig/development-sql.yaml" >"$dyn.new"
  # Declaring a key twice makes the server refuse to start: add only if absent.
  grep -q '^frontend\.enableUpdateWorkflowExecution:' "$dyn.new" \
    || printf 'frontend.enableUpdateWorkflowExecution:\n  - value: true\n' >>"$dyn.new"
  grep -q '^frontend\.enableExecuteMultiOperation:' "$dyn.new" \
    || printf 'frontend.enableExecuteMultiOperation:\n  - value: true\n' >>"$dyn.new"
  "$SERVER" validate-dynamic-config "$dyn.new" >"$DIR/dynamicconfig-check.log" 2>&1 \
    || die "generated dynamic config is invalid; see $DIR/dynamicconfig-check.log"
  mv "$dyn.new" "$dyn"
}

ensure_cli() {
  [[ -x "$CLI" ]] && return 0
  say "Temporal CLI missing; running scripts/install-temporal.sh"
  bash "$ROOT/scripts/install-temporal.sh" >/dev/null || die "scripts/install-temporal.sh failed"
  [[ -x "$CLI" ]] || die "Temporal CLI not found at $CLI after scripts/install-temporal.sh"
}

# Retries a CLI call for up to $1 seconds (namespace caches refresh every few s).
retry() {
  local limit="$1" t0=$SECONDS; shift
  until "$@" >>"$DIR/setup.log" 2>&1; do
    (( SECONDS - t0 < limit )) || return 1
    sleep 1
  done
}

ensure_namespace() {
  local t="$CLI" a=(--address "$ADDRESS") sa name type existing
  if ! "$t" operator namespace describe -n "$NAMESPACE" "${a[@]}" >/dev/null 2>&1; then
    say "creating namespace $NAMESPACE"
    retry 30 "$t" operator namespace create -n "$NAMESPACE" "${a[@]}" \
      || die "temporal operator namespace create -n $NAMESPACE failed; see $DIR/setup.log"
    retry 30 "$t" operator namespace describe -n "$NAMESPACE" "${a[@]}" \
      || die "namespace $NAMESPACE not visible after creating it; see $DIR/setup.log"
  fi
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}"; type="${sa#*=}"
    existing="$("$t" operator search-attribute list -n "$NAMESPACE" "${a[@]}" 2>/dev/null || true)"
    if ! grep -qw "$name" <<<"$existing"; then
      say "registering search attribute $name ($type)"
      retry 30 "$t" operator search-attribute create -n "$NAMESPACE" "${a[@]}" --name "$name" --type "$type" \
        || die "temporal operator search-attribute create --name $name --type $type failed; see $DIR/setup.log"
    fi
  done
}

cmd_start() {
  local t0=$SECONDS pid mod p
  mkdir -p "$DIR"
  ensure_cli
  if pid="$(server_pid)"; then
    healthy || die "server process $pid is running but $ADDRESS does not answer$(other_address); see $LOG (stop it with: bash scripts/temporal-postgres.sh stop)"
    ensure_namespace
    say "already running (pid $pid)"
    echo "TEMPORAL_ADDRESS=$ADDRESS"
    return 0
  fi
  rm -f "$PIDFILE"
  for p in "${DEFAULT_PORTS[@]}"; do
    ! port_busy $((p + SHIFT)) || die "port $((p + SHIFT)) on 127.0.0.1 is already in use (needed for Temporal's default $p); set TEMPORAL_PG_PORT to move all ports"
  done

  ensure_go
  ensure_binary server "$MODULE/cmd/server"
  ensure_binary sql "$MODULE/cmd/tools/sql"
  mod="$(module_dir)"
  ensure_postgres
  ensure_databases "$mod"
  write_config "$mod"

  say "starting Temporal $VERSION (frontend $ADDRESS, PostgreSQL port $PG_PORT); log $LOG"
  echo "=== $(date -Is) start" >>"$LOG"
  setsid "$SERVER" --root "$DIR" --config config --env development --allow-no-auth start \
    >>"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "$ADDRESS" >"$ADDRFILE"
  for _ in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; die "server exited during start-up; see $LOG"; }
    healthy && break
    sleep 0.5
  done
  healthy || { tail -n 20 "$LOG" >&2; die "frontend on $ADDRESS did not answer within 120 s (server pid $pid still running; see $LOG)"; }
  ensure_namespace
  say "ready in $((SECONDS - t0)) s (pid $pid)"
  echo "TEMPORAL_ADDRESS=$ADDRESS"
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "unknown command '$1' (use start, stop or status)" ;;
esac
