#!/usr/bin/env bash
# The ListingService benchmark (tests/bench/README.md, "The listing benchmark").
#   1. Data: N generated vehicles (valid VINs) with ~1.5 listings each on 50
#      synthetic platforms, 40 % of them sold (sale, owner, the other
#      listings withdrawn SOLD_ELSEWHERE), their odometer readings and history
#      rows, COPYed straight into the tables with registryd stopped.
#   2. CreateListing against "the same SQL transaction" in pgbench:
#      a. registryd serve; 32 bench platforms (CreateOrganization);
#      b. five serial CreateListing calls with log_statement=all: the
#         statements of one call become the pgbench script (each parameter
#         the literal the server sent, the per-call ones made from pgbench
#         variables), and their shapes are compared line by line;
#      c. ROUNDS times, alternating: the gRPC load (grpc_load, the C client:
#         C connections × S streams = 32 calls in flight, each call a
#         generated item no bench platform listed, with a mileage reading;
#         the requests serialized before the run) for S seconds, then
#         pgbench -M prepared with the script for S seconds, with 32 clients
#         and with 8 (registryd's worker connections), registryd still
#         running (its sequencer integrates pgbench's events as it does the
#         calls'); calls/s ÷ the best pgbench tps is the ratio (goal ≥ 80 %).
#   3. GetItemHistory at random generated items, by item_id and by VIN, with
#      1 and 8 grpcio threads: p50 / p99.
#
# Usage: tests/bench/listing_bench.sh [-b BUILD_DIR] [-n N] [--seconds S]
#          [--rounds R] [--connections C] [--streams S] [--py-client]
#          [--procs P] [--threads T] [--history-seconds S] [--no-mileage]
#   -b DIR             binaries already built in DIR (-DBENCH=ON); default:
#                      configure and build build-bench/ (RelWithDebInfo)
#   -n N               generated items (default 1000000)
#   --seconds S        each CreateListing run (default 30; 3 s warm-up first)
#   --rounds R         gRPC / pgbench rounds (default 3)
#   --connections C, --streams S   the C client (grpc_load): C HTTP/2
#                      connections × S streams in flight (default 4 × 8 =
#                      32, the pgbench client count)
#   --py-client        the Python grpcio client instead (the figures before
#                      grpc_load): P processes × T threads
#   --procs P, --threads T   its processes and threads (default 4 × 8 = 32)
#   --history-seconds S      each GetItemHistory run (default 15)
#   --no-mileage       CreateListing without a mileage reading
# Environment: LISTING_BENCH_PORT (gRPC, default 50201; metrics +1),
# LISTING_BENCH_PG_PORT (54379), LISTING_BENCH_REDIS_PORT (63849): the
# private PostgreSQL (with pg_stat_statements) and Redis of instance
# `bench-listing` under var/bench-listing/, started and stopped here; the
# script stops if any of its ports is taken. Results under
# var/bench-listing/results/<time>/.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../ops/lib.sh
. "$HERE/../../ops/lib.sh"   # ROOT, VAR, say, die, install_packages, build, pg_*, redis_*
# shellcheck source=bench_lib.sh
. "$HERE/bench_lib.sh"      # bench_results, tool, bench_servers

PY=/usr/bin/python3          # Debian's, which has python3-grpcio
TOOL="$HERE/listing_bench.py"
INST=bench-listing
PG_PORT=${LISTING_BENCH_PG_PORT:-54379} REDIS_PORT=${LISTING_BENCH_REDIS_PORT:-63849}
PORT=${LISTING_BENCH_PORT:-50201}
MPORT=$((PORT + 1))

BUILD="" N=1000000 SECONDS_RUN=30 ROUNDS=3 PROCS=4 THREADS=8 HIST_SECONDS=15 MILEAGE=1
CONNS=4 STREAMS=8 PY_CLIENT=0
WARMUP=3                                  # seconds of each gRPC run before the measured ones
MAX_RATE=4000                             # grpc_load's bodies: this many calls/s at most
while [ $# -gt 0 ]; do
  case $1 in
    -b) BUILD=$(cd "$2" && pwd); shift 2 ;;
    -n) N=$2; shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --procs) PROCS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --py-client) PY_CLIENT=1; shift ;;
    --history-seconds) HIST_SECONDS=$2; shift 2 ;;
    --no-mileage) MILEAGE=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
if [ "$PY_CLIENT" = 1 ]; then CLIENTS=$((PROCS * THREADS)); else CLIENTS=$((CONNS * STREAMS)); fi
SAMPLE=5                                  # captured calls, on the last items
CHECK_ITEM=$((N - SAMPLE - 1))            # the one-transaction check of the script
PG_CLIENTS="$CLIENTS 8"                   # pgbench: as many clients as the gRPC load,
                                          # and as registryd's 8 worker connections
SLICE=$(( (N - SAMPLE - 1) / (3 * ROUNDS) ))  # items of one run
[ "$SLICE" -ge 2000 ] || die "-n $N is too small for $ROUNDS rounds"

# -- processes and cleanup ----------------------------------------------------
SERVER_PID="" PG_UP=0 REDIS_UP=0

cleanup() {
  local rc=$?
  set +e
  stop_pid "$SERVER_PID" registryd
  [ "$PG_UP" = 1 ] && pg_stop "$INST"
  [ "$REDIS_UP" = 1 ] && redis_stop "$INST" "$REDIS_PORT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- packages and build ---------------------------------------------------------
install_packages
command -v pgbench >/dev/null || die "pgbench not found (postgresql-15 ships it)"
if [ -z "$BUILD" ]; then
  BUILD="$ROOT/build-bench"
  say "building $BUILD (RelWithDebInfo, BENCH=ON)"
  build "$BUILD" -DBENCH=ON -DSANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
REGISTRYD="$BUILD/services/registryd"
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
GRPC_LOAD="$BUILD/tests/bench/grpc_load"
[ "$PY_CLIENT" = 1 ] || [ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"

bench_results

# -- servers --------------------------------------------------------------------
bench_servers LISTING_BENCH
PG_LOG="$(pg_dir "$INST")/../postgres.log"
CONNINFO="host=127.0.0.1 port=$PG_PORT user=registry dbname=registry"
master_key "$VAR/$INST/master.key"
mkdir -p "$VAR/$INST/lock"
COMMON=(--pg "$CONNINFO" --redis "127.0.0.1:$REDIS_PORT" --master-key-file "$VAR/$INST/master.key"
        --registry-id bench.listing.example)

sql() { psql -X -q -tA -h 127.0.0.1 -p "$PG_PORT" -U registry -d registry -c "$1"; }

# a fresh `registry` database, migrated, with an ADMIN key
psql -q -h 127.0.0.1 -p "$PG_PORT" -U registry -d postgres \
  -c "DROP DATABASE IF EXISTS registry WITH (FORCE)" -c "CREATE DATABASE registry" >/dev/null
sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
redis-cli -p "$REDIS_PORT" flushall >/dev/null
"$REGISTRYD" migrate "${COMMON[@]}" >>"$OUT/migrate.log" 2>&1 ||
  { tail -20 "$OUT/migrate.log" >&2; die "registryd migrate failed"; }
ADMIN_KEY=$("$REGISTRYD" admin bootstrap --name "Bench operator" "${COMMON[@]}" \
            2>>"$OUT/bootstrap.log") || { tail -20 "$OUT/bootstrap.log" >&2; die "bootstrap failed"; }

serve() { # LABEL
  "$REGISTRYD" serve "${COMMON[@]}" --listen "127.0.0.1:$PORT" \
    --metrics-listen "127.0.0.1:$MPORT" --lock-dir "$VAR/$INST/lock" \
    --rate-limit-per-second 0 >"$OUT/registryd.$1.log" 2>&1 &
  SERVER_PID=$!
  "$PY" "$HERE/bench_tool.py" wait "127.0.0.1:$PORT" ||
    { tail -20 "$OUT/registryd.$1.log" >&2; die "registryd did not come up"; }
}
wait_sequenced() { # every event integrated by the log (so no run pays for another's backlog)
  local i
  for i in $(seq 600); do
    [ "$(sql "SELECT count(*) FROM events_pending")" = 0 ] && return 0
    sleep 0.1
  done
  say "the sequencer is still behind after 60 s"
}
pgstat() { "$PY" "$HERE/log_bench.py" --results "$RESULTS" pgstat --pg "$CONNINFO" --top 15 --label "$1" >/dev/null; }

say "$(nproc) cores; $N items; CreateListing ${SECONDS_RUN}s × $ROUNDS rounds, $CLIENTS clients; results in $OUT"

# -- 1. data ----------------------------------------------------------------------
say "1: COPY $N items with their listings, sales, readings and history"
tool load --pg "$CONNINFO" --count "$N" --label "$N"
sql "VACUUM ANALYZE" >/dev/null

# -- 2. CreateListing -----------------------------------------------------------------
serve main
tool orgs --addr "127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" --count "$CLIENTS" --out "$OUT/orgs.json"

say "2b: capturing the statements of CreateListing (log_statement=all)"
FIRST_SAMPLE=$((N - SAMPLE))
sql "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
sleep 1
OFFSET=$(stat -c %s "$PG_LOG")
tool sample --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --first-item "$FIRST_SAMPLE" \
  --count "$SAMPLE" --mileage "$MILEAGE"
sleep 0.5
sql "ALTER SYSTEM RESET log_statement" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
tool capture --log "$PG_LOG" --offset "$OFFSET" --out "$OUT/captured.json" --label CreateListing >/dev/null
tool script --pg "$CONNINFO" --captured "$OUT/captured.json" --orgs "$OUT/orgs.json" \
  --sample-first "$FIRST_SAMPLE" --sample-count "$SAMPLE" --out "$OUT/createlisting.pgbench" \
  --label CreateListing >/dev/null
# the script must run before it is measured: one transaction, checked
pgbench -n -M prepared -c 1 -t 1 -f "$OUT/createlisting.pgbench" -D k=0 -D clients=1 \
  -D first="$CHECK_ITEM" -D run=1 "$CONNINFO" >"$OUT/pgbench-check.txt" 2>&1 ||
  { cat "$OUT/pgbench-check.txt" >&2; die "the pgbench script does not run"; }

RC=0
for r in $(seq 0 $((ROUNDS - 1))); do
  G_FIRST=$((3 * r * SLICE)) P_FIRST=$(((3 * r + 1) * SLICE))
  if [ "$PY_CLIENT" = 1 ]; then
    say "2c: round $((r + 1)): gRPC CreateListing, grpcio $PROCS × $THREADS threads, ${SECONDS_RUN}s"
    wait_sequenced
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    tool grpc --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --procs "$PROCS" \
      --threads "$THREADS" --seconds "$SECONDS_RUN" --warmup "$WARMUP" --first-item "$G_FIRST" \
      --items "$SLICE" --mileage "$MILEAGE" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
      --label "round-$((r + 1))" >/dev/null || { RC=1; say "the gRPC run reported errors (see $RESULTS)"; }
  else
    # the requests, serialized before anything is measured: enough for
    # MAX_RATE calls/s over the warm-up and the run (grpc_load says if not)
    BODIES="$OUT/bodies-round-$((r + 1)).bin"
    tool bodies --orgs "$OUT/orgs.json" --first-item "$G_FIRST" --items "$SLICE" \
      --count $((MAX_RATE * (SECONDS_RUN + WARMUP))) --mileage "$MILEAGE" --out "$BODIES" \
      --keys-out "$OUT/keys.txt"
    say "2c: round $((r + 1)): gRPC CreateListing, grpc_load $CONNS × $STREAMS streams, ${SECONDS_RUN}s"
    wait_sequenced
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    tool cload --client "$GRPC_LOAD" --addr "127.0.0.1:$PORT" --bodies "$BODIES" \
      --keys "$OUT/keys.txt" --connections "$CONNS" --streams "$STREAMS" \
      --seconds "$SECONDS_RUN" --warmup "$WARMUP" --mileage "$MILEAGE" --pid "$SERVER_PID" \
      --pg-pid "$PG_PID" --log "$OUT/grpc_load-round-$((r + 1)).log" --label "round-$((r + 1))" \
      >/dev/null || { RC=1; say "the gRPC run reported errors (see $RESULTS)"; }
    rm -f "$BODIES"
  fi
  pgstat "grpc-round-$((r + 1))"
  for c in $PG_CLIENTS; do
    wait_sequenced
    say "2c: round $((r + 1)): pgbench -c $c, ${SECONDS_RUN}s"
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    tool pgbench --pg "$CONNINFO" --script "$OUT/createlisting.pgbench" --clients "$c" \
      --jobs 2 --seconds "$SECONDS_RUN" --first-item "$P_FIRST" \
      --out-prefix "$OUT/pgbench-c$c-round-$((r + 1))" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
      --label "round-$((r + 1))" >/dev/null || { RC=1; say "pgbench reported errors (see $RESULTS)"; }
    pgstat "pgbench-c$c-round-$((r + 1))"
    rm -f "$OUT"/pgbench-c$c-round-$((r + 1)).[0-9]*
    P_FIRST=$((P_FIRST + SLICE))
  done
done

# -- 3. GetItemHistory -----------------------------------------------------------------
say "3: GetItemHistory at $N items, ${HIST_SECONDS}s per run"
wait_sequenced
tool history --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --items "$CHECK_ITEM" \
  --seconds "$HIST_SECONDS" --pid "$SERVER_PID" --pg-pid "$PG_PID" --label "$N" >/dev/null ||
  { RC=1; say "the history run reported errors (see $RESULTS)"; }
stop_pid "$SERVER_PID" registryd; SERVER_PID=""

{
  echo
  echo "$(date -u +%FT%TZ) $(nproc) cores; registryd $BUILD; results $OUT"
  echo
  "$PY" "$TOOL" report "$RESULTS"
} | tee "$OUT/summary.txt"
say "results: $OUT"
exit "$RC"
