#!/usr/bin/env bash
# The IssueReverseInvoice benchmark (tests/bench/README.md, "The invoice
# benchmark"; issue 6).
#   a. registryd serve; I RECYCLER organizations for part (a) and one more
#      for part (b), each with a REVERSE_INVOICE qualification valid today
#      and its first invoice already issued (its registry number given);
#   b. five serial IssueReverseInvoice calls with log_statement=all, each
#      checked (numbers, amounts, taxes, an Ed25519 signature that verifies
#      with the INVOICE key of ListSigningKeys): the statements of one call
#      (a first invoice to its seller, so with the consent INSERT) become
#      two pgbench scripts — clients spread over the I recyclers, and all on
#      the part-(b) one — each parameter the literal the server sent, the
#      per-call ones made from pgbench variables; the signature's and the
#      key unwrap's CPU cost over a real invoice body are measured (again
#      at the end);
#   c. ROUNDS times, for (a) then (b): the gRPC load (grpc_load: C
#      connections × S streams = 32 calls in flight; connection i as
#      recycler i mod I in (a), every connection as the one recycler in
#      (b); every request a two-line invoice to a seller drawn from a pool
#      of SELLERS, with seller_consent) for S seconds, then pgbench
#      -M prepared with that part's script for S seconds, with 32 clients
#      and with 8 (registryd's worker connections), registryd still
#      running; after each run the new invoices must equal
#      the calls sent (transactions processed) and every issuer's numbers
#      must run 1 … its counter, once each. calls/s ÷ pgbench tps is the
#      ratio; signing µs ÷ registryd's CPU µs per call the signing share.
#
# Usage: tests/bench/invoice_bench.sh [-b BUILD_DIR] [--seconds S] [--rounds R]
#          [--issuers I] [--connections C] [--streams S] [--sellers N]
#          [--max-rate N] [--only a|b]
#   -b DIR             binaries already built in DIR (-DBENCH=ON); default:
#                      configure and build build-bench/ (RelWithDebInfo)
#   --seconds S        each run (default 30; the gRPC runs 3 s warm-up first)
#   --rounds R         rounds of (a) and (b) (default 3)
#   --issuers I        recyclers of part (a) (default 16)
#   --connections C, --streams S   grpc_load: C HTTP/2 connections × S
#                      streams in flight (default 16 × 2 = 32, the pgbench
#                      client count); C a multiple of I
#   --sellers N        the seller pool (default 10000)
#   --max-rate N       requests serialized per gRPC run: N calls/s over
#                      warm-up and run (default 1500; grpc_load says if they
#                      run out)
#   --only a|b         one part only
# Environment: INVOICE_BENCH_PORT (gRPC, default 50221; metrics +1),
# INVOICE_BENCH_PG_PORT (54399), INVOICE_BENCH_REDIS_PORT (63869): the
# private PostgreSQL (with pg_stat_statements) and Redis of instance
# `bench-invoice` under var/bench-invoice/, started and stopped here; the
# script stops if any of its ports is taken. Results under
# var/bench-invoice/results/<time>/.
set -euo pipefail
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench-invoice invoice_bench.py INVOICE_BENCH 50221 54399 63869

BUILD="" SECONDS_RUN=30 ROUNDS=3 ISSUERS=16 CONNS=16 STREAMS=2 SELLERS=10000 MAX_RATE=1500
PARTS="a b"
WARMUP=3                                  # seconds of each gRPC run before the measured ones
BENCH_OPTIONS=(--seconds SECONDS_RUN --rounds ROUNDS --issuers ISSUERS --connections CONNS
               --streams STREAMS --sellers SELLERS --max-rate MAX_RATE --only PARTS)
bench_args "$@"
CLIENTS=$((CONNS * STREAMS))
PG_CLIENTS="$CLIENTS 8"                   # pgbench: as many clients as calls in flight,
                                          # and as registryd's 8 worker connections
SAMPLE=5                                  # captured calls
case $PARTS in "a b"|a|b) ;; *) die "--only takes a or b" ;; esac
if [ "$ISSUERS" -lt 1 ] || [ $((CONNS % ISSUERS)) != 0 ]; then
  die "--connections ($CONNS) must be a multiple of --issuers ($ISSUERS)"
fi
if [ "$SELLERS" -lt 100 ] || [ "$SELLERS" -gt 1000000 ]; then die "--sellers: 100 to 1,000,000"; fi

bench_build
command -v pgbench >/dev/null || die "pgbench not found (postgresql-15 ships it)"
[ -x "$REGISTRYD" ] || die "$REGISTRYD missing"
[ -x "$GRPC_LOAD" ] || die "$GRPC_LOAD missing (a -DBENCH=ON build has it)"
bench_results
bench_servers bench.invoice.example
fresh_db

say "$(nproc) cores; IssueReverseInvoice ${SECONDS_RUN}s × $ROUNDS rounds of (${PARTS// /) and (}), $CLIENTS calls in flight, $ISSUERS recyclers in (a), $SELLERS sellers; results in $OUT"

# -- a. server and recyclers --------------------------------------------------------------
serve main
tool orgs --addr "127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" --count "$ISSUERS" \
  --sellers "$SELLERS" --out "$OUT/orgs.json"

# -- b. the statements of one call, the cost of one signature ------------------------------
say "b: capturing the statements of IssueReverseInvoice (log_statement=all)"
capture_script IssueReverseInvoice "$OUT/issue-a.pgbench" 0 "$SAMPLE" 0 \
  --addr "127.0.0.1:$PORT" --orgs "$OUT/orgs.json" --count "$SAMPLE" --out "$OUT/samples.json"
tool script --pg "$CONNINFO" --captured "$OUT/captured.json" --orgs "$OUT/orgs.json" \
  --sample-first 0 --sample-count "$SAMPLE" --group single --out "$OUT/issue-b.pgbench" \
  --label IssueReverseInvoice >/dev/null
pgbench_check "$OUT/issue-b.pgbench" 0 "$OUT/pgbench-check-b.txt" 2
say "b: the CPU cost of one Ed25519 signature and key unwrap (libsodium)"
tool signcost --samples "$OUT/samples.json" --label before >/dev/null

# -- c. rounds -----------------------------------------------------------------------------
RC=0
sql "SELECT pg_stat_reset_shared('wal')" >/dev/null   # sqltime: WAL flushes per call
for r in $(seq 1 "$ROUNDS"); do
  for part in $PARTS; do
    if [ "$part" = a ]; then group=recyclers pn=1; else group=single pn=2; fi
    BODIES="$OUT/bodies-round-$r$part.bin"
    tool bodies --orgs "$OUT/orgs.json" --group "$group" --seed $((r * 10 + pn)) \
      --count $((MAX_RATE * (SECONDS_RUN + WARMUP))) --out "$BODIES" --keys-out "$OUT/keys.txt"
    server_alive
    grpc_round c "$r$part" IssueReverseInvoice --pg "$CONNINFO"
    tool sqltime --pg "$CONNINFO" --run grpc --label "round-$r$part" >/dev/null
    for c in $PG_CLIENTS; do
      server_alive
      pgbench_round c "$r$part" "$c" "$OUT/issue-$part.pgbench" 0
      tool sqltime --pg "$CONNINFO" --run "pgbench-c$c" --label "round-$r$part" >/dev/null
    done
  done
done
stop_server
say "the CPU cost of one Ed25519 signature and key unwrap again, the servers stopped"
tool signcost --samples "$OUT/samples.json" --label after >/dev/null

bench_summary
exit "$RC"
