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
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench-wipe wipe_bench.py WIPE_BENCH 50211 54389 63859

BUILD="" SECONDS_RUN=30 ROUNDS=3 CONNS=4 STREAMS=8 MAX_RATE=3000 PERF=1 PERF_SECONDS=10
WARMUP=3                                  # seconds of each gRPC run before the measured ones
BENCH_OPTIONS=(--seconds SECONDS_RUN --rounds ROUNDS --connections CONNS --streams STREAMS
               --max-rate MAX_RATE --no-perf PERF=0 --perf-seconds PERF_SECONDS)
bench_args "$@"
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

PERF_PID=""
# shellcheck disable=SC2317  # run by bench_cleanup, the EXIT trap
bench_stop_extra() { [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null; }

bench_build
command -v pgbench >/dev/null || die "pgbench not found (postgresql-15 ships it)"
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
[ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"
bench_results
bench_servers bench.wipe.example
fresh_db

say "$(nproc) cores; SubmitWipe ${SECONDS_RUN}s × $ROUNDS rounds, $CLIENTS calls in flight; results in $OUT"

# -- a. server and wipers ---------------------------------------------------------------
serve main
tool orgs --addr "127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" --count "$CONNS" --out "$OUT/orgs.json"

# -- b. the statements of one call, the cost of one signature ------------------------------
say "b: capturing the statements of SubmitWipe (log_statement=all)"
capture_script SubmitWipe "$OUT/submitwipe.pgbench" "$SAMPLE_FIRST" "$SAMPLE" "$CHECK_DEV" \
  --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --first "$SAMPLE_FIRST" --count "$SAMPLE" \
  --out "$OUT/samples.json"
[ "$(sql "SELECT count(*) FROM items WHERE imei LIKE '35${CHECK_DEV}%'")" = 1 ] ||
  die "the pgbench check did not register its device (see $OUT/submitwipe.pgbench)"
say "b: the CPU cost of one Ed25519 signature (libsodium)"
tool signcost --samples "$OUT/samples.json" --label before >/dev/null

# -- c. rounds -----------------------------------------------------------------------------
RC=0
for r in $(seq 1 "$ROUNDS"); do
  G_FIRST=$(((3 * r - 2) * STEP)) P_FIRST=$(((3 * r - 1) * STEP))
  BODIES="$OUT/bodies-round-$r.bin"
  tool bodies --orgs "$OUT/orgs.json" --first "$G_FIRST" --count "$COUNT" --out "$BODIES" \
    --keys-out "$OUT/keys.txt"
  server_alive
  grpc_round c "$r" SubmitWipe --pg "$CONNINFO"
  tool sqltime --pg "$CONNINFO" --run grpc --label "round-$r" >/dev/null
  for c in $PG_CLIENTS; do
    server_alive
    pgbench_round c "$r" "$c" "$OUT/submitwipe.pgbench" "$P_FIRST"
    tool sqltime --pg "$CONNINFO" --run "pgbench-c$c" --label "round-$r" >/dev/null
    P_FIRST=$((P_FIRST + STEP / 2))
  done
done

# -- d. perf cross-check -------------------------------------------------------------------
if [ "$PERF" = 1 ]; then
  G_FIRST=$(((1 + 3 * ROUNDS) * STEP))
  BODIES="$OUT/bodies-perf.bin"
  tool bodies --orgs "$OUT/orgs.json" --first "$G_FIRST" \
    --count $((MAX_RATE * (PERF_SECONDS + WARMUP))) --out "$BODIES" --keys-out "$OUT/keys.txt"
  server_alive
  wait_sequenced
  say "d: gRPC SubmitWipe under perf record (registryd, 499 Hz), ${PERF_SECONDS}s"
  perf record -q -F 499 -p "$SERVER_PID" -o "$OUT/perf.data" >/dev/null 2>"$OUT/perf-record.log" &
  PERF_PID=$!
  sleep 0.5
  cload "$PERF_SECONDS" perf --pg "$CONNINFO" >"$OUT/cload-perf.json" ||
    say "the perf run reported errors (see $OUT/cload-perf.json)"
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
stop_server
say "the CPU cost of one Ed25519 signature again, the servers stopped"
tool signcost --samples "$OUT/samples.json" --label after >/dev/null

bench_summary
exit "$RC"
