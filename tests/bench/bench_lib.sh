# What the benchmark scripts share (log_bench.sh, listing_bench.sh); sourced
# after ops/lib.sh. Each script sets INST (its private instance under var/),
# PORT / MPORT / PG_PORT / REDIS_PORT, PY and TOOL first.

# A results directory for this run: OUT, RESULTS (one JSON line a
# measurement), the Python message modules (as tests/interop/CMakeLists.txt
# makes them) on PYTHONPATH, and tool() to run the script's Python helper.
bench_results() {
  OUT="$VAR/$INST/results/$(date +%Y%m%d-%H%M%S)"
  RESULTS="$OUT/results.jsonl"
  mkdir -p "$OUT/pygen"
  protoc --python_out="$OUT/pygen" -I "$ROOT/proto" -I /usr/share/grpc-proto -I /usr/include \
    "$ROOT"/proto/registry/v1/*.proto
  export PYTHONPATH="$OUT/pygen" PYTHONDONTWRITEBYTECODE=1
}
tool() { "$PY" "$TOOL" --results "$RESULTS" "$@"; }

# bench_servers ENV_PREFIX: the private PostgreSQL (with pg_stat_statements)
# and Redis of the instance, on ports that must be free — never reuse what
# listens there: ops/lib.sh's redis_start would adopt a foreign Redis (which
# the script then flushes and shuts down). Sets PG_UP, REDIS_UP (for the
# script's cleanup) and PG_PID. ENV_PREFIX names the script's port
# variables in the messages (e.g. LOG_BENCH).
bench_servers() {
  local p
  for p in "$PORT" "$MPORT"; do port_free "$p" || die "port $p is in use (set ${1}_PORT)"; done
  port_free "$PG_PORT" || die "port $PG_PORT is in use (set ${1}_PG_PORT)"
  port_free "$REDIS_PORT" || die "port $REDIS_PORT is in use (set ${1}_REDIS_PORT)"
  say "private PostgreSQL :$PG_PORT and Redis :$REDIS_PORT under $VAR/$INST"
  PG_UP=1; pg_start "$INST" "$PG_PORT" shared_preload_libraries=pg_stat_statements
  REDIS_UP=1; redis_start "$INST" "$REDIS_PORT"
  PG_PID=$(head -1 "$(pg_dir "$INST")/postmaster.pid")
}
