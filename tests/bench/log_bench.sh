#!/usr/bin/env bash
# The transparency-log benchmark (tests/bench/README.md, "The log benchmark").
#   1. Backlog: N valid event rows COPYed into `events` with registryd
#      stopped, then `registryd serve`: the time until log_state.tree_size
#      reaches N (polled every 100 ms) -> events/s; once with the default
#      --log-batch-size (256), once with 1024, each on a fresh database.
#   2. Lag: a sustained IssueApiKey load at a fixed rate through gRPC; per
#      event, the time from the call's completion to its log_index being set
#      (a 10 ms DB poll) and to its delivery by WatchEvents to an INSPECTOR.
#   3. Proofs at a big tree: the BIG − N further rows COPYed, integrated by
#      registryd's own sequencer and checkpointer (--log-batch-size 10000),
#      then GetInclusionProof / GetConsistencyProof latency with grpcio
#      threads (a sample of answers verified against the signed checkpoint,
#      RFC 9162) and h2load with one fixed request.
#   4. Storage: pg_total_relation_size of events, log_entries, log_tiles,
#      log_checkpoints after N and after BIG leaves, per million.
#
# Usage: tests/bench/log_bench.sh [-b BUILD_DIR] [-n N] [--big M | --no-big]
#                                 [--lag-rate R] [--lag-seconds S]
#   -b DIR          binaries already built in DIR (-DBENCH=ON); default:
#                   configure and build build-bench/ (RelWithDebInfo)
#   -n N            backlog events (default 1000000)
#   --big M         leaves of the proof tree (default 10000000; must be > N)
#   --no-big        stop after parts 1 and 2 (proofs then run at N leaves)
#   --lag-rate R    IssueApiKey calls/s of part 2 (default 300), over
#   --lag-seconds S seconds (default 30), by --lag-threads T (default 8)
# Environment: LOG_BENCH_PORT (gRPC, default 50191; metrics +1),
# LOG_BENCH_PG_PORT (54369), LOG_BENCH_REDIS_PORT (63839): the private
# PostgreSQL (with pg_stat_statements) and Redis of instance `bench-log`
# under var/bench-log/, started and stopped here; the script stops if any of
# its ports is taken. Results under var/bench-log/results/<time>/.
set -euo pipefail
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench-log log_bench.py LOG_BENCH 50191 54369 63839

BUILD="" N=1000000 BIG=10000000 LAG_RATE=300 LAG_SECONDS=30 LAG_THREADS=8
BENCH_OPTIONS=(-n N --big BIG --no-big BIG=0 --lag-rate LAG_RATE --lag-seconds LAG_SECONDS
               --lag-threads LAG_THREADS)
bench_args "$@"
[ "$BIG" = 0 ] || [ "$BIG" -gt "$N" ] || die "--big ($BIG) must be more than -n ($N)"

bench_build nghttp2-client
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
bench_results
# one registry id for every command: migrate names the signing keys after it
bench_servers bench.log.example
REDIS_PID=$(cat "$VAR/$INST/redis/redis.pid")

redis_xadds() { redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_xadd:/{print $3, $5}'; }

# integrate LABEL BATCH [serve flags]: serve and time the backlog (every
# event row there is)
integrate() {
  local label=$1 batch=$2; shift 2
  local start target
  start=$(sql "SELECT tree_size FROM log_state")
  target=$(sql "SELECT count(*) FROM events")
  sql "SELECT pg_stat_statements_reset()" >/dev/null
  redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
  start_server "$label" "$@"
  tool integrate --pg "$CONNINFO" --start-size "$start" --target "$target" --t0 "$SERVE_T0" --pid "$SERVER_PID" \
    --pg-pid "$PG_PID" --redis-pid "$REDIS_PID" --batch "$batch" --label "$label"
  say "$label: Redis XADD calls, usec: $(redis_xadds)"
  echo "$label xadd $(redis_xadds) xlen $(redis-cli -p "$REDIS_PORT" xlen '{log}:events')" >>"$OUT/redis-xadd.txt"
  tool pgstat --pg "$CONNINFO" --label "$label" >/dev/null
}

say "$(nproc) cores; backlog $N; big tree ${BIG/#0/(skipped)}; results in $OUT"

# -- 1. backlog, default batch; 4. storage at N -------------------------------------
fresh_db
say "1a: COPY $N events"
tool backlog --pg "$CONNINFO" --start 0 --count "$N" --label "default-256"
integrate default-256 256
tool storage --pg "$CONNINFO" --label "after-$N" >/dev/null
stop_server

# -- 1. backlog, --log-batch-size 1024 -------------------------------------------------
fresh_db
say "1b: COPY $N events"
tool backlog --pg "$CONNINFO" --start 0 --count "$N" --label "batch-1024"
integrate batch-1024 1024 --log-batch-size 1024
stop_server

# -- 2. lag under load (default flags) ---------------------------------------------------
serve lag
say "2: IssueApiKey at $LAG_RATE/s for ${LAG_SECONDS}s, $LAG_THREADS threads"
tool lag --addr "127.0.0.1:$PORT" --pg "$CONNINFO" --admin-key "$ADMIN_KEY" \
  --rate "$LAG_RATE" --seconds "$LAG_SECONDS" --threads "$LAG_THREADS" \
  --label "IssueApiKey@$LAG_RATE" || say "lag run reported errors (see $RESULTS)"
stop_server

# -- 3. the big tree, proofs; 4. storage at BIG --------------------------------------------
SIZE=$(sql "SELECT tree_size FROM log_state") LABEL=proofs
if [ "$BIG" != 0 ]; then
  LABEL=big-10000
  say "3: COPY $((BIG - SIZE)) more events (tree at $SIZE)"
  tool backlog --pg "$CONNINFO" --start "$N" --count "$((BIG - SIZE))" --label "big-10000"
  integrate big-10000 10000 --log-batch-size 10000
  SIZE=$BIG
  tool storage --pg "$CONNINFO" --label "after-$BIG" >/dev/null
else
  start_server proofs
fi
wait_serving "$LABEL"
say "3: proofs at $SIZE leaves"
sql "SELECT pg_stat_statements_reset()" >/dev/null
tool proofs --addr "127.0.0.1:$PORT" --pg "$CONNINFO" --label "$SIZE" ||
  say "proof run reported errors (see $RESULTS)"

# h2load, one fixed request each: the server's throughput without Python
CP=$(sql "SELECT max(tree_size) FROM log_checkpoints")
for kind in inclusion consistency; do
  case $kind in
    inclusion)   method=/registry.v1.LogService/GetInclusionProof   idx=$((CP / 3)) ;;
    consistency) method=/registry.v1.LogService/GetConsistencyProof idx=$((CP / 3)) ;;
  esac
  "$PY" "$TOOL" payload --kind "$kind" --index "$idx" --out "$OUT/$kind.bin"
  "$PY" "$TOOL" scrape --metrics "http://127.0.0.1:$MPORT/metrics" --method "$method" \
    >"$OUT/$kind.before.json"
  h2load -n 20000 -c 8 -m 16 -t 1 -d "$OUT/$kind.bin" -H 'content-type: application/grpc' \
    -H 'te: trailers' --log-file="$OUT/$kind.reqlog" "http://127.0.0.1:$PORT$method" \
    >"$OUT/$kind.h2load.txt" 2>&1 || true
  sleep 0.5
  tool h2load --txt "$OUT/$kind.h2load.txt" --log "$OUT/$kind.reqlog" \
    --metrics "http://127.0.0.1:$MPORT/metrics" --method "$method" \
    --before "$OUT/$kind.before.json" --load "c8 m16" --label "$SIZE" >/dev/null
  rm -f "$OUT/$kind.reqlog"
done
tool pgstat --pg "$CONNINFO" --label "proofs-$SIZE" >/dev/null
stop_server

bench_summary
