#!/usr/bin/env bash
# The CreditService benchmark (tests/bench/README.md, "The credit
# benchmark"; issue 7).
#   a. registryd serve; an INSPECTOR organization (every record's source,
#      the SubmitRecord caller) and a PLATFORM one (the profile reader);
#      PERSONS SELLER_PERSON subjects through RegisterSubject (sealed by the
#      server), the other SUBJECTS − PERSONS SELLER_BUSINESS subjects and
#      RECORDS credit records COPYed into PostgreSQL; a few profiles checked
#      against the SPEC §6 grade computed from the rows;
#   b. GetCreditProfile with grpc_load, for organization subjects then
#      persons: every subject's generation bumped (Redis INCR
#      credit:{id}:gen), a miss run (each subject read once, in a random
#      order), then a hit run (the subjects the miss run read, again, within
#      the 300 s TTL); at C × S calls in flight, then at one call at a time;
#   c. SubmitRecord: five serial calls captured with log_statement=all
#      become a pgbench script; then ROUNDS times the gRPC load (grpc_load,
#      C × S = 32 calls in flight, each a new record about a random subject)
#      for SECONDS, and pgbench -M prepared with the script, 32 and 8
#      clients, registryd still running; records stored = calls sent after
#      every run.
#
# Usage: tests/bench/credit_bench.sh [-b BUILD_DIR] [--subjects N] [--persons P]
#          [--records R] [--seconds S] [--profile-seconds S] [--rounds R]
#          [--connections C] [--streams S] [--max-rate N]
#   -b DIR              binaries already built in DIR (-DBENCH=ON); default:
#                       configure and build build-bench/ (RelWithDebInfo)
#   --subjects N        subjects in all (default 100000)
#   --persons P         of which natural persons, registered through gRPC
#                       (default 2000)
#   --records R         credit records (default 1000000)
#   --profile-seconds S each GetCreditProfile run (default 10; 2 s warm-up
#                       first). A miss run sends each subject once: calls
#                       beyond the pool are hits and counted as `repeats`
#   --seconds S         each SubmitRecord / pgbench run (default 20; the gRPC
#                       runs 3 s warm-up first)
#   --rounds R          SubmitRecord rounds (default 2)
#   --connections C, --streams S   grpc_load (default 16 × 2 = 32 in flight)
#   --max-rate N        SubmitRecord requests serialized per run: N calls/s
#                       over warm-up and run (default 3000)
# Environment: CREDIT_BENCH_PORT (gRPC, default 50231; metrics +1),
# CREDIT_BENCH_PG_PORT (54409), CREDIT_BENCH_REDIS_PORT (63879): the private
# PostgreSQL (with pg_stat_statements) and Redis of instance `bench-credit`
# under var/bench-credit/, started and stopped here. Results under
# var/bench-credit/results/<time>/.
set -euo pipefail
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench-credit credit_bench.py CREDIT_BENCH 50231 54409 63879

BUILD="" SUBJECTS=100000 PERSONS=2000 RECORDS=1000000 SECONDS_RUN=20 PSECONDS=10 ROUNDS=2
CONNS=16 STREAMS=2 MAX_RATE=3000
WARMUP=3
BENCH_OPTIONS=(--subjects SUBJECTS --persons PERSONS --records RECORDS --seconds SECONDS_RUN
               --profile-seconds PSECONDS --rounds ROUNDS --connections CONNS --streams STREAMS
               --max-rate MAX_RATE)
bench_args "$@"
CLIENTS=$((CONNS * STREAMS))
SAMPLE=5
[ "$PERSONS" -lt "$SUBJECTS" ] || die "--persons must be below --subjects"

bench_build
command -v pgbench >/dev/null || die "pgbench not found (postgresql-15 ships it)"
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
[ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"
bench_results
bench_servers bench.credit.example
fresh_db

say "$(nproc) cores; $SUBJECTS subjects ($PERSONS persons), $RECORDS records; results in $OUT"

# -- a. server, organizations, data -----------------------------------------------------
serve main
tool setup --addr "127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" --pg "$CONNINFO" \
  --subjects "$SUBJECTS" --persons "$PERSONS" --records "$RECORDS" --out "$OUT/orgs.json"
sql "VACUUM ANALYZE credit_records" >/dev/null
tool verify --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --pg "$CONNINFO" ||
  die "GetCreditProfile does not match the grade rule (see $RESULTS)"

# -- b. GetCreditProfile -----------------------------------------------------------------
RC=0
profile_run() { # LABEL C S SECONDS [bodies options]
  local label=$1 c=$2 s=$3 secs=$4; shift 4
  BODIES="$OUT/bodies-$label.bin"
  tool bodies --orgs "$OUT/orgs.json" --method GetCreditProfile --count 150000 \
    --out "$BODIES" --keys-out "$OUT/keys.txt" "$@"
  server_alive
  quiesce
  say "b: GetCreditProfile $label, $c × $s in flight, ${secs}s"
  tool cload --client "$GRPC_LOAD" --addr "127.0.0.1:$PORT" --bodies "$BODIES" \
    --keys "$OUT/keys.txt" --connections "$c" --streams "$s" --seconds "$secs" --warmup 2 \
    --pid "$SERVER_PID" --pg-pid "$PG_PID" --log "$OUT/grpc_load-$label.log" \
    --label "$label" --pg "$CONNINFO" --method GetCreditProfile --part "$label" >/dev/null ||
    { RC=1; say "the run $label reported errors (see $RESULTS)"; }
  rm -f "$BODIES"
  pgstat "$label"
}
for kind in org person; do
  [ "$kind" = person ] && [ "$PERSONS" = 0 ] && continue
  for load in "c$CLIENTS:$CONNS:$STREAMS" "c1:1:1"; do
    IFS=: read -r tag c s <<<"$load"
    tool bump --orgs "$OUT/orgs.json" --redis-port "$REDIS_PORT"
    profile_run "$kind-miss-$tag" "$c" "$s" "$PSECONDS" --kind "$kind" --seed "${#tag}"
    profile_run "$kind-hit-$tag" "$c" "$s" "$PSECONDS" --kind "$kind" --hit-of "$kind-miss-$tag"
  done
done

# -- c. SubmitRecord against pgbench -------------------------------------------------------
say "c: capturing the statements of SubmitRecord (log_statement=all)"
capture_script SubmitRecord "$OUT/submit.pgbench" 0 "$SAMPLE" 0 \
  --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --count "$SAMPLE"
sql "SELECT pg_stat_statements_reset()" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  BODIES="$OUT/bodies-submit-$r.bin"
  tool bodies --orgs "$OUT/orgs.json" --method SubmitRecord --seed "$((100 + r))" \
    --count $((MAX_RATE * (SECONDS_RUN + WARMUP))) --out "$BODIES" --keys-out "$OUT/keys.txt"
  server_alive
  grpc_round c "$r" SubmitRecord --pg "$CONNINFO" --method SubmitRecord --part submit
  for c in "$CLIENTS" 8; do
    server_alive
    pgbench_round c "$r" "$c" "$OUT/submit.pgbench" 0
  done
done
stop_server

bench_summary
exit "$RC"
