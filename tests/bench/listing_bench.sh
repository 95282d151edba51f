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
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench-listing listing_bench.py LISTING_BENCH 50201 54379 63849

BUILD="" N=1000000 SECONDS_RUN=30 ROUNDS=3 PROCS=4 THREADS=8 HIST_SECONDS=15 MILEAGE=1
CONNS=4 STREAMS=8 PY_CLIENT=0
WARMUP=3                                  # seconds of each gRPC run before the measured ones
MAX_RATE=4000                             # grpc_load's bodies: this many calls/s at most
BENCH_OPTIONS=(-n N --seconds SECONDS_RUN --rounds ROUNDS --procs PROCS --threads THREADS
               --connections CONNS --streams STREAMS --py-client PY_CLIENT=1
               --history-seconds HIST_SECONDS --no-mileage MILEAGE=0)
bench_args "$@"
if [ "$PY_CLIENT" = 1 ]; then CLIENTS=$((PROCS * THREADS)); else CLIENTS=$((CONNS * STREAMS)); fi
SAMPLE=5                                  # captured calls, on the last items
CHECK_ITEM=$((N - SAMPLE - 1))            # the one-transaction check of the script
PG_CLIENTS="$CLIENTS 8"                   # pgbench: as many clients as the gRPC load,
                                          # and as registryd's 8 worker connections
SLICE=$(( (N - SAMPLE - 1) / (3 * ROUNDS) ))  # items of one run
[ "$SLICE" -ge 2000 ] || die "-n $N is too small for $ROUNDS rounds"

bench_build
command -v pgbench >/dev/null || die "pgbench not found (postgresql-15 ships it)"
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
[ "$PY_CLIENT" = 1 ] || [ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"
bench_results
bench_servers bench.listing.example
fresh_db

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
capture_script CreateListing "$OUT/createlisting.pgbench" "$FIRST_SAMPLE" "$SAMPLE" "$CHECK_ITEM" \
  --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --first-item "$FIRST_SAMPLE" \
  --count "$SAMPLE" --mileage "$MILEAGE"

RC=0
for r in $(seq 1 "$ROUNDS"); do
  G_FIRST=$((3 * (r - 1) * SLICE)) P_FIRST=$(((3 * r - 2) * SLICE))
  if [ "$PY_CLIENT" = 1 ]; then
    say "2c: round $r: gRPC CreateListing, grpcio $PROCS × $THREADS threads, ${SECONDS_RUN}s"
    quiesce
    tool grpc --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --procs "$PROCS" \
      --threads "$THREADS" --seconds "$SECONDS_RUN" --warmup "$WARMUP" --first-item "$G_FIRST" \
      --items "$SLICE" --mileage "$MILEAGE" --pid "$SERVER_PID" --pg-pid "$PG_PID" \
      --label "round-$r" >/dev/null || { RC=1; say "the gRPC run reported errors (see $RESULTS)"; }
    pgstat "grpc-round-$r"
  else
    # the requests, serialized before anything is measured: enough for
    # MAX_RATE calls/s over the warm-up and the run (grpc_load says if not)
    BODIES="$OUT/bodies-round-$r.bin"
    tool bodies --orgs "$OUT/orgs.json" --first-item "$G_FIRST" --items "$SLICE" \
      --count $((MAX_RATE * (SECONDS_RUN + WARMUP))) --mileage "$MILEAGE" --out "$BODIES" \
      --keys-out "$OUT/keys.txt"
    grpc_round 2c "$r" CreateListing --mileage "$MILEAGE"
  fi
  for c in $PG_CLIENTS; do
    pgbench_round 2c "$r" "$c" "$OUT/createlisting.pgbench" "$P_FIRST"
    P_FIRST=$((P_FIRST + SLICE))
  done
done

# -- 3. GetItemHistory -----------------------------------------------------------------
say "3: GetItemHistory at $N items, ${HIST_SECONDS}s per run"
wait_sequenced
tool history --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --items "$CHECK_ITEM" \
  --seconds "$HIST_SECONDS" --pid "$SERVER_PID" --pg-pid "$PG_PID" --label "$N" >/dev/null ||
  { RC=1; say "the history run reported errors (see $RESULTS)"; }
stop_server

bench_summary
exit "$RC"
