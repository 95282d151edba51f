# shellcheck shell=bash disable=SC2034  # it sets globals the scripts use
# What the benchmark scripts share (run_bench.sh, log_bench.sh,
# listing_bench.sh, wipe_bench.sh, invoice_bench.sh); sourced by them, it sources ops/lib.sh
# (ROOT, VAR, say, die, install_packages, build, pg_*, redis_*, master_key,
# stop_pid, port_free). A script calls bench_instance first (or sets INST,
# PORT, MPORT, PG_PORT, REDIS_PORT and TOOL itself, as run_bench.sh does).
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../ops/lib.sh
. "$BENCH_DIR/../../ops/lib.sh"

PY=/usr/bin/python3          # Debian's, which has python3-grpcio

# bench_instance INST TOOL ENV PORT PG_PORT REDIS_PORT: the script's private
# instance var/INST/, its Python helper (TOOL, in this directory) and its
# ports: gRPC ${ENV}_PORT (default PORT; metrics +1), ${ENV}_PG_PORT,
# ${ENV}_REDIS_PORT (defaults PG_PORT, REDIS_PORT).
bench_instance() {
  local v
  INST=$1 TOOL="$BENCH_DIR/$2" BENCH_ENV=$3
  v=${3}_PORT; PORT=${!v:-$4}
  v=${3}_PG_PORT; PG_PORT=${!v:-$5}
  v=${3}_REDIS_PORT; REDIS_PORT=${!v:-$6}
  MPORT=$((PORT + 1))
}

# bench_args "$@": the command line. -b DIR (BUILD: binaries already built
# there), -h / --help (the script's leading comment) and the script's own
# options, BENCH_OPTIONS: pairs of OPTION VAR (the option takes a value,
# stored in VAR) or OPTION VAR=VALUE (a flag: VAR set to VALUE).
bench_args() {
  local i spec found
  while [ $# -gt 0 ]; do
    case $1 in
      -b) BUILD=$(cd "$2" && pwd); shift 2; continue ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    esac
    found=0
    for ((i = 0; i < ${#BENCH_OPTIONS[@]}; i += 2)); do
      [ "$1" = "${BENCH_OPTIONS[i]}" ] || continue
      spec=${BENCH_OPTIONS[i + 1]} found=1
      case $spec in
        *=*) printf -v "${spec%%=*}" %s "${spec#*=}"; shift ;;
        *) [ $# -ge 2 ] || die "$1 needs a value (see --help)"
           printf -v "$spec" %s "$2"; shift 2 ;;
      esac
      break
    done
    [ "$found" = 1 ] || die "unknown argument: $1 (see --help)"
  done
}

# -- processes and cleanup ----------------------------------------------------
# On any exit (normal, failure, Ctrl-C, SIGTERM): bench_stop_extra (what the
# script started besides these; none unless it defines one), registryd
# (SERVER_PID), PostgreSQL and Redis (once started: PG_UP, REDIS_UP).
SERVER_PID="" PG_UP=0 REDIS_UP=0
bench_stop_extra() { :; }
bench_cleanup() {
  local rc=$?
  set +e
  bench_stop_extra
  stop_pid "$SERVER_PID" registryd
  [ "$PG_UP" = 1 ] && pg_stop "$INST"
  [ "$REDIS_UP" = 1 ] && redis_stop "$INST" "$REDIS_PORT"
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_build [PACKAGES...]: the project's Debian packages and PACKAGES
# installed when missing; BUILD (-b) or build-bench/ configured
# (RelWithDebInfo, BENCH=ON, SANITIZE=OFF) and built here; REGISTRYD and
# GRPC_LOAD in it (the script checks the ones it needs).
# shellcheck disable=SC2120  # PACKAGES are optional
bench_build() {
  install_packages "$@"
  if [ -z "${BUILD:-}" ]; then
    BUILD="$ROOT/build-bench"
    say "building $BUILD (RelWithDebInfo, BENCH=ON)"
    build "$BUILD" -DBENCH=ON -DSANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  REGISTRYD="$BUILD/services/registryd"
  GRPC_LOAD="$BUILD/tests/bench/grpc_load"
}

# -- results ------------------------------------------------------------------
# bench_out: a results directory for this run, OUT, with RESULTS (one JSON
# line a measurement) in it.
bench_out() {
  OUT="$VAR/$INST/results/$(date +%Y%m%d-%H%M%S)"
  RESULTS="$OUT/results.jsonl"
  mkdir -p "$OUT"
}

# bench_results: bench_out, and the Python message modules (as
# tests/interop/CMakeLists.txt makes them) on PYTHONPATH; tool() runs the
# script's Python helper.
bench_results() {
  bench_out
  mkdir -p "$OUT/pygen"
  protoc --python_out="$OUT/pygen" -I "$ROOT/proto" -I /usr/share/grpc-proto -I /usr/include \
    "$ROOT"/proto/registry/v1/*.proto
  export PYTHONPATH="$OUT/pygen" PYTHONDONTWRITEBYTECODE=1
}
tool() { "$PY" "$TOOL" --results "$RESULTS" "$@"; }

# bench_summary: the helper's table of RESULTS, headed by the date, the
# machine and the binaries, to the terminal and OUT/summary.txt.
bench_summary() {
  {
    echo
    echo "$(date -u +%FT%TZ) $(nproc) cores; registryd $BUILD; results $OUT"
    echo
    "$PY" "$TOOL" report "$RESULTS"
  } | tee "$OUT/summary.txt"
  say "results: $OUT"
}

# -- servers ------------------------------------------------------------------
# bench_servers REGISTRY_ID: the private PostgreSQL (with pg_stat_statements;
# its log PG_LOG) and Redis of the instance, on ports that must be free —
# never reuse what listens there: ops/lib.sh's redis_start would adopt a
# foreign Redis (which the script then flushes and shuts down). Sets PG_UP,
# REDIS_UP (for the cleanup), PG_PID, CONNINFO, and COMMON: registryd's
# flags for them, the instance's master key and REGISTRY_ID.
bench_servers() {
  local p
  for p in "$PORT" "$MPORT"; do port_free "$p" || die "port $p is in use (set ${BENCH_ENV}_PORT)"; done
  port_free "$PG_PORT" || die "port $PG_PORT is in use (set ${BENCH_ENV}_PG_PORT)"
  port_free "$REDIS_PORT" || die "port $REDIS_PORT is in use (set ${BENCH_ENV}_REDIS_PORT)"
  say "private PostgreSQL :$PG_PORT and Redis :$REDIS_PORT under $VAR/$INST"
  PG_UP=1; pg_start "$INST" "$PG_PORT" shared_preload_libraries=pg_stat_statements
  REDIS_UP=1; redis_start "$INST" "$REDIS_PORT"
  PG_PID=$(head -1 "$(pg_dir "$INST")/postmaster.pid")
  PG_LOG="$(pg_dir "$INST")/../postgres.log"
  CONNINFO="host=127.0.0.1 port=$PG_PORT user=registry dbname=registry"
  master_key "$VAR/$INST/master.key"
  mkdir -p "$VAR/$INST/lock"
  COMMON=(--pg "$CONNINFO" --redis "127.0.0.1:$REDIS_PORT" --master-key-file "$VAR/$INST/master.key"
          --registry-id "$1")
}

sql() { psql -X -q -tA -h 127.0.0.1 -p "$PG_PORT" -U registry -d registry -c "$1"; }

# fresh_db: a new `registry` database (pg_stat_statements in it), Redis
# flushed, migrated, with an ADMIN key: ADMIN_KEY.
fresh_db() {
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U registry -d postgres \
    -c "DROP DATABASE IF EXISTS registry WITH (FORCE)" -c "CREATE DATABASE registry" >/dev/null
  sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  "$REGISTRYD" migrate "${COMMON[@]}" >>"$OUT/migrate.log" 2>&1 ||
    { tail -20 "$OUT/migrate.log" >&2; die "registryd migrate failed"; }
  ADMIN_KEY=$("$REGISTRYD" admin bootstrap --name "Bench operator" "${COMMON[@]}" \
              2>>"$OUT/bootstrap.log") || { tail -20 "$OUT/bootstrap.log" >&2; die "bootstrap failed"; }
}

# start_server LABEL [serve flags...]: registryd serve in the background
# (SERVER_PID; SERVE_T0 when it was started), no rate limit, its log
# OUT/registryd.LABEL.log. serve LABEL: that, then wait_serving.
start_server() {
  local label=$1; shift
  SERVE_T0=$(date +%s.%N)
  "$REGISTRYD" serve "${COMMON[@]}" --listen "127.0.0.1:$PORT" \
    --metrics-listen "127.0.0.1:$MPORT" --lock-dir "$VAR/$INST/lock" \
    --rate-limit-per-second 0 "$@" >"$OUT/registryd.$label.log" 2>&1 &
  SERVER_PID=$!
}
wait_serving() { # LABEL
  "$PY" "$BENCH_DIR/bench_tool.py" wait "127.0.0.1:$PORT" ||
    { tail -20 "$OUT/registryd.$1.log" >&2; die "registryd did not come up"; }
}
serve() { start_server "$@"; wait_serving "$1"; }
stop_server() { stop_pid "$SERVER_PID" registryd; SERVER_PID=""; }
# shellcheck disable=SC2120  # LABEL is optional
server_alive() { # [LABEL]: stop if registryd (serve LABEL, default main) is gone
  kill -0 "$SERVER_PID" 2>/dev/null ||
    { tail -20 "$OUT/registryd.${1:-main}.log" >&2; die "registryd is gone"; }
}

wait_sequenced() { # every event integrated by the log (so no run pays for another's backlog)
  local _
  for _ in $(seq 600); do
    [ "$(sql "SELECT count(*) FROM events_pending")" = 0 ] && return 0
    sleep 0.1
  done
  say "the sequencer is still behind after 60 s"
}
pgstat() { # LABEL: the top 15 statements since the last reset, to RESULTS
  tool pgstat --pg "$CONNINFO" --top 15 --label "$1" >/dev/null
}

# -- a call's statements against pgbench (listing, wipe, invoice benchmarks) ---
# These use OUT, CONNINFO, SERVER_PID, PG_PID, SECONDS_RUN, and for
# grpc_load CONNS, STREAMS, WARMUP, GRPC_LOAD, BODIES and OUT/keys.txt (the
# helper's `bodies`); a failed run sets RC=1.

log_statements() { # all | reset: PostgreSQL's log_statement, reloaded
  if [ "$1" = all ]; then sql "ALTER SYSTEM SET log_statement = 'all'"
  else sql "ALTER SYSTEM RESET log_statement"; fi >/dev/null
  sql "SELECT pg_reload_conf()" >/dev/null
}

# capture_script METHOD SCRIPT SAMPLE_FIRST SAMPLE_COUNT CHECK_FIRST
# SAMPLE_ARGS...: the helper's `sample SAMPLE_ARGS` (serial calls of METHOD
# with log_statement=all), the statements they issued (`capture`:
# OUT/captured.json, .sql) and the pgbench script made of the last one
# (`script`: SCRIPT), which must then run one transaction (its :first
# CHECK_FIRST) without error before anything is measured.
capture_script() {
  local method=$1 script=$2 first=$3 count=$4 check=$5 offset; shift 5
  log_statements all
  sleep 1
  offset=$(stat -c %s "$PG_LOG")
  tool sample "$@" || { log_statements reset; die "the sample $method calls failed"; }
  sleep 0.5
  log_statements reset
  tool capture --log "$PG_LOG" --offset "$offset" --out "$OUT/captured.json" --label "$method" >/dev/null
  tool script --pg "$CONNINFO" --captured "$OUT/captured.json" --orgs "$OUT/orgs.json" \
    --sample-first "$first" --sample-count "$count" --out "$script" --label "$method" >/dev/null
  pgbench_check "$script" "$check"
}

# pgbench_check SCRIPT FIRST [OUTPUT [RUN]]: one transaction of SCRIPT (its
# :first FIRST, :run RUN, default 1) that must run without error; pgbench's
# output to OUTPUT (default OUT/pgbench-check.txt).
pgbench_check() {
  local script=$1 check=$2 log=${3:-$OUT/pgbench-check.txt} run=${4:-1}
  pgbench -n -M prepared -c 1 -t 1 -f "$script" -D k=0 -D clients=1 \
    -D first="$check" -D run="$run" "$CONNINFO" >"$log" 2>&1 ||
    { cat "$log" >&2; die "the pgbench script does not run"; }
  grep -q "number of failed transactions: 0" "$log" ||
    { cat "$log" >&2; die "the pgbench script's transaction failed"; }
}

quiesce() { # before a measured run: the log caught up, pg_stat_statements reset
  wait_sequenced
  sql "SELECT pg_stat_statements_reset()" >/dev/null
}

# cload SECONDS LABEL [cload options...]: the helper's `cload`: grpc_load on
# BODIES, CONNS × STREAMS, WARMUP s of warm-up, then SECONDS measured; its
# log OUT/grpc_load-LABEL.log. Its JSON record goes to stdout.
cload() {
  local secs=$1 label=$2; shift 2
  tool cload --client "$GRPC_LOAD" --addr "127.0.0.1:$PORT" --bodies "$BODIES" \
    --keys "$OUT/keys.txt" --connections "$CONNS" --streams "$STREAMS" \
    --seconds "$secs" --warmup "$WARMUP" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
    --log "$OUT/grpc_load-$label.log" --label "$label" "$@"
}

# grpc_round PART ROUND METHOD [cload options...]: round ROUND's measured
# gRPC run (SECONDS_RUN s), BODIES removed after it, then pgstat.
grpc_round() {
  local part=$1 r=$2 method=$3; shift 3
  say "$part: round $r: gRPC $method, grpc_load $CONNS × $STREAMS streams, ${SECONDS_RUN}s"
  quiesce
  cload "$SECONDS_RUN" "round-$r" "$@" >/dev/null ||
    { RC=1; say "the gRPC run reported errors (see $RESULTS)"; }
  rm -f "$BODIES"
  pgstat "grpc-round-$r"
}

# pgbench_round PART ROUND CLIENTS SCRIPT FIRST: round ROUND's measured
# pgbench run with CLIENTS clients (-j 2, SECONDS_RUN s) from :first FIRST,
# registryd running; then pgstat; pgbench's per-transaction logs removed.
pgbench_round() {
  local part=$1 r=$2 c=$3 script=$4 first=$5
  say "$part: round $r: pgbench -c $c, ${SECONDS_RUN}s"
  quiesce
  tool pgbench --pg "$CONNINFO" --script "$script" --clients "$c" \
    --jobs 2 --seconds "$SECONDS_RUN" --first-item "$first" \
    --out-prefix "$OUT/pgbench-c$c-round-$r" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
    --label "round-$r" >/dev/null || { RC=1; say "pgbench reported errors (see $RESULTS)"; }
  pgstat "pgbench-c$c-round-$r"
  rm -f "$OUT"/pgbench-c"$c"-round-"$r".[0-9]*
}
