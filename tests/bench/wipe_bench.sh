#!/usr/bin/env bash
# The SubmitWipe benchmark (tests/bench/README.md, "The wipe benchmark").
#   a. registryd serve; W WIPER organizations, each with a DATA_WIPE
#      qualification valid today (one per grpc_load connection);
#   b. five serial SubmitWipe calls with log_statement=all, each checked (a
#      certificate whose Ed25519 signature verifies with the CERTIFICATE key
#      of ListSigningKeys): the statements of one call become the pgbench
#      script (each parameter the literal the server sent, the per-call ones
#      made from pgbench variables), and their shapes are compared line by
#      line; the signature's CPU cost over a real certificate body is
#      measured (libsodium, the library registryd links; again at the end);
#   c. ROUNDS times, alternating: the gRPC load (grpc_load, the C client:
#      C connections × S streams = 32 calls in flight; every call a
#      certified submission on a device never seen before, so every call
#      registers an item and signs a certificate; the requests serialized
#      before the run) for S seconds, then pgbench -M prepared with the
#      script for S seconds, with 32 clients and with 8 (registryd's worker
#      connections), registryd still running (its sequencer integrates
#      pgbench's events as it does the calls'); calls/s ÷ the best pgbench
#      tps is the ratio (goal ≥ 80 %); signing µs ÷ registryd's CPU µs per
#      call is the share of registryd's time spent signing;
#   d. (unless --no-perf) one more gRPC run under `perf record` on registryd:
#      libsodium's share of its samples, an upper bound for signing.
#
# Usage: tests/bench/wipe_bench.sh [-b BUILD_DIR] [--seconds S] [--rounds R]
#          [--connections C] [--streams S] [--max-rate N] [--no-perf]
#          [--perf-seconds S]
#   -b DIR             binaries already built in DIR (-DBENCH=ON); default:
#                      configure and build build-bench/ (RelWithDebInfo)
#   --seconds S        each SubmitWipe run (default 30; 3 s warm-up first)
#   --rounds R         gRPC / pgbench rounds (default 3)
#   --connections C, --streams S   grpc_load: C HTTP/2 connections × S
#                      streams in flight (default 4 × 8 = 32, the pgbench
#                      client count); one wiper per connection
#   --max-rate N       requests serialized per run: N calls/s over warm-up
#                      and run (default 3000; grpc_load says if they run out)
#   --no-perf          skip part d
#   --perf-seconds S   part d's measured seconds (default 10)
# Environment: WIPE_BENCH_PORT (gRPC, default 50211; metrics +1),
# WIPE_BENCH_PG_PORT (54389), WIPE_BENCH_REDIS_PORT (63859): the private
# PostgreSQL (with pg_stat_statements) and Redis of instance `bench-wipe`
# under var/bench-wipe/, started and stopped here; the script stops if any
# of its ports is taken. Results under var/bench-wipe/results/<time>/.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../ops/lib.sh
. "$HERE/../../ops/lib.sh"   # ROOT, VAR, say, die, install_packages, build, pg_*, redis_*
# shellcheck source=bench_lib.sh
. "$HERE/bench_lib.sh"      # bench_results, tool, bench_servers

PY=/usr/bin/python3          # Debian's, which has python3-grpcio
TOOL="$HERE/wipe_bench.py"
INST=bench-wipe
PG_PORT=${WIPE_BENCH_PG_PORT:-54389} REDIS_PORT=${WIPE_BENCH_REDIS_PORT:-63859}
PORT=${WIPE_BENCH_PORT:-50211}
MPORT=$((PORT + 1))

BUILD="" SECONDS_RUN=30 ROUNDS=3 CONNS=4 STREAMS=8 MAX_RATE=3000 PERF=1 PERF_SECONDS=10
WARMUP=3                                  # seconds of each gRPC run before the measured ones
while [ $# -gt 0 ]; do
  case $1 in
    -b) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --max-rate) MAX_RATE=$2; shift 2 ;;
    --no-perf) PERF=0; shift ;;
    --perf-seconds) PERF_SECONDS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
CLIENTS=$((CONNS * STREAMS))
PG_CLIENTS="$CLIENTS 8"                   # pgbench: as many clients as the gRPC load,
                                          # and as registryd's 8 worker connections
SAMPLE=5 SAMPLE_FIRST=1                   # captured calls: devices 1..5
CHECK_DEV=999000000000                    # the one-transaction check of the script
STEP=100000000                            # devices of one run: [k * STEP, (k + 1) * STEP)
COUNT=$((MAX_RATE * (SECONDS_RUN + WARMUP)))
[ "$COUNT" -lt "$STEP" ] || die "--max-rate × --seconds is too large"
if [ "$PERF" = 1 ] && ! command -v perf >/dev/null; then
  say "perf not found: part d skipped"; PERF=0
fi

# -- processes and cleanup ----------------------------------------------------
SERVER_PID="" PG_UP=0 REDIS_UP=0 PERF_PID=""

cleanup() {
  local rc=$?
  set +e
  [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
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
[ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"

bench_results

# -- servers --------------------------------------------------------------------
bench_servers WIPE_BENCH
PG_LOG="$(pg_dir "$INST")/../postgres.log"
CONNINFO="host=127.0.0.1 port=$PG_PORT user=registry dbname=registry"
master_key "$VAR/$INST/master.key"
mkdir -p "$VAR/$INST/lock"
COMMON=(--pg "$CONNINFO" --redis "127.0.0.1:$REDIS_PORT" --master-key-file "$VAR/$INST/master.key"
        --registry-id bench.wipe.example)

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
  local _
  for _ in $(seq 600); do
    [ "$(sql "SELECT count(*) FROM events_pending")" = 0 ] && return 0
    sleep 0.1
  done
  say "the sequencer is still behind after 60 s"
}
pgstat() { "$PY" "$HERE/log_bench.py" --results "$RESULTS" pgstat --pg "$CONNINFO" --top 15 --label "$1" >/dev/null; }
alive() { kill -0 "$SERVER_PID" 2>/dev/null ||
  { tail -20 "$OUT/registryd.main.log" >&2; die "registryd is gone"; }; }

say "$(nproc) cores; SubmitWipe ${SECONDS_RUN}s × $ROUNDS rounds, $CLIENTS calls in flight; results in $OUT"

# -- a. server and wipers ---------------------------------------------------------------
serve main
tool orgs --addr "127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" --count "$CONNS" --out "$OUT/orgs.json"

# -- b. the statements of one call, the cost of one signature ------------------------------
say "b: capturing the statements of SubmitWipe (log_statement=all)"
sql "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
sleep 1
OFFSET=$(stat -c %s "$PG_LOG")
tool sample --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --first "$SAMPLE_FIRST" \
  --count "$SAMPLE" --out "$OUT/samples.json" ||
  { sql "ALTER SYSTEM RESET log_statement" >/dev/null; sql "SELECT pg_reload_conf()" >/dev/null
    die "the sample SubmitWipe calls failed"; }
sleep 0.5
sql "ALTER SYSTEM RESET log_statement" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
tool capture --log "$PG_LOG" --offset "$OFFSET" --out "$OUT/captured.json" --label SubmitWipe >/dev/null
tool script --pg "$CONNINFO" --captured "$OUT/captured.json" --orgs "$OUT/orgs.json" \
  --sample-first "$SAMPLE_FIRST" --sample-count "$SAMPLE" --out "$OUT/submitwipe.pgbench" \
  --label SubmitWipe >/dev/null
# the script must run before it is measured: one transaction, checked
pgbench -n -M prepared -c 1 -t 1 -f "$OUT/submitwipe.pgbench" -D k=0 -D clients=1 \
  -D first="$CHECK_DEV" -D run=1 "$CONNINFO" >"$OUT/pgbench-check.txt" 2>&1 ||
  { cat "$OUT/pgbench-check.txt" >&2; die "the pgbench script does not run"; }
grep -q "number of failed transactions: 0" "$OUT/pgbench-check.txt" ||
  { cat "$OUT/pgbench-check.txt" >&2; die "the pgbench script's transaction failed"; }
[ "$(sql "SELECT count(*) FROM items WHERE imei LIKE '35${CHECK_DEV}%'")" = 1 ] ||
  die "the pgbench check did not register its device (see $OUT/submitwipe.pgbench)"
say "b: the CPU cost of one Ed25519 signature (libsodium)"
tool signcost --samples "$OUT/samples.json" --label before >/dev/null

# -- c. rounds -----------------------------------------------------------------------------
RC=0
for r in $(seq 0 $((ROUNDS - 1))); do
  G_FIRST=$(((1 + 3 * r) * STEP)) P_FIRST=$(((2 + 3 * r) * STEP))
  BODIES="$OUT/bodies-round-$((r + 1)).bin"
  tool bodies --orgs "$OUT/orgs.json" --first "$G_FIRST" --count "$COUNT" --out "$BODIES" \
    --keys-out "$OUT/keys.txt"
  alive
  say "c: round $((r + 1)): gRPC SubmitWipe, grpc_load $CONNS × $STREAMS streams, ${SECONDS_RUN}s"
  wait_sequenced
  sql "SELECT pg_stat_statements_reset()" >/dev/null
  tool cload --client "$GRPC_LOAD" --addr "127.0.0.1:$PORT" --bodies "$BODIES" \
    --keys "$OUT/keys.txt" --connections "$CONNS" --streams "$STREAMS" \
    --seconds "$SECONDS_RUN" --warmup "$WARMUP" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
    --pg "$CONNINFO" --log "$OUT/grpc_load-round-$((r + 1)).log" --label "round-$((r + 1))" \
    >/dev/null || { RC=1; say "the gRPC run reported errors (see $RESULTS)"; }
  rm -f "$BODIES"
  pgstat "grpc-round-$((r + 1))"
  tool sqltime --pg "$CONNINFO" --run grpc --label "round-$((r + 1))" >/dev/null
  for c in $PG_CLIENTS; do
    alive
    wait_sequenced
    say "c: round $((r + 1)): pgbench -c $c, ${SECONDS_RUN}s"
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    tool pgbench --pg "$CONNINFO" --script "$OUT/submitwipe.pgbench" --clients "$c" \
      --jobs 2 --seconds "$SECONDS_RUN" --first-item "$P_FIRST" \
      --out-prefix "$OUT/pgbench-c$c-round-$((r + 1))" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
      --label "round-$((r + 1))" >/dev/null || { RC=1; say "pgbench reported errors (see $RESULTS)"; }
    pgstat "pgbench-c$c-round-$((r + 1))"
    tool sqltime --pg "$CONNINFO" --run "pgbench-c$c" --label "round-$((r + 1))" >/dev/null
    rm -f "$OUT"/pgbench-c$c-round-$((r + 1)).[0-9]*
    P_FIRST=$((P_FIRST + STEP / 2))
  done
done

# -- d. perf cross-check -------------------------------------------------------------------
if [ "$PERF" = 1 ]; then
  G_FIRST=$(((1 + 3 * ROUNDS) * STEP))
  BODIES="$OUT/bodies-perf.bin"
  tool bodies --orgs "$OUT/orgs.json" --first "$G_FIRST" \
    --count $((MAX_RATE * (PERF_SECONDS + WARMUP))) --out "$BODIES" --keys-out "$OUT/keys.txt"
  alive
  wait_sequenced
  say "d: gRPC SubmitWipe under perf record (registryd, 499 Hz), ${PERF_SECONDS}s"
  perf record -q -F 499 -p "$SERVER_PID" -o "$OUT/perf.data" >/dev/null 2>"$OUT/perf-record.log" &
  PERF_PID=$!
  sleep 0.5
  tool cload --client "$GRPC_LOAD" --addr "127.0.0.1:$PORT" --bodies "$BODIES" \
    --keys "$OUT/keys.txt" --connections "$CONNS" --streams "$STREAMS" \
    --seconds "$PERF_SECONDS" --warmup "$WARMUP" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
    --pg "$CONNINFO" --log "$OUT/grpc_load-perf.log" --label "perf" \
    >"$OUT/cload-perf.json" || say "the perf run reported errors (see $OUT/cload-perf.json)"
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
  rm -f "$BODIES"
  PERF_RATE=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["calls_per_s"])' \
              "$OUT/cload-perf.json" 2>/dev/null || echo 0)
  tool perfsum --data "$OUT/perf.data" --out "$OUT/perf-report.txt" --calls-per-s "$PERF_RATE" \
    --label perf >/dev/null || say "perf report failed (see $OUT/perf-record.log)"
  rm -f "$OUT/perf.data.old"
fi
stop_pid "$SERVER_PID" registryd; SERVER_PID=""
say "the CPU cost of one Ed25519 signature again, the servers stopped"
tool signcost --samples "$OUT/samples.json" --label after >/dev/null

{
  echo
  echo "$(date -u +%FT%TZ) $(nproc) cores; registryd $BUILD; results $OUT"
  echo
  "$PY" "$TOOL" report "$RESULTS"
} | tee "$OUT/summary.txt"
say "results: $OUT"
exit "$RC"
