#!/usr/bin/env bash
# The registryd benchmark (tests/bench/README.md). h2load drives
#   - grpc.health.v1.Health/Check on registryd and on a minimal gRPC C++
#     server (bench_health_cpp), alternating runs so that machine noise hits
#     both: ours, C++, ours, C++, ...
#   - registry.v1.OrgService/WhoAmI on registryd, with a real API key.
# Every run is checked apart from h2load, which counts any HTTP 200 as a
# success whatever grpc-status says: a few real calls with grpcio, and for
# registryd the delta of registry_rpc_calls_total{method,code} in /metrics
# against the number of requests h2load sent.
#
# Usage: tests/bench/run_bench.sh [-r ROUNDS] [-b BUILD_DIR] [--cpp-only] [--keep-logs]
#   -r N          measured rounds per server, method and load (default 3), after
#                 one short warm-up run each
#   -b DIR        use the binaries already built in DIR (configured with
#                 -DBENCH=ON); default: configure and build build-bench/
#                 (RelWithDebInfo, BENCH=ON, SANITIZE=OFF)
#   --cpp-only    only the C++ server (no PostgreSQL, Redis or registryd)
#   --keep-logs   keep h2load's per-request logs (several MB a run)
# Environment: BENCH_HEALTH_ARGS (default "-n 200000 -c 16 -m 32 -t 1"),
# BENCH_WHOAMI_ARGS (default "-n 20000 -c 16 -m 32 -t 1"),
# BENCH_SERIAL_HEALTH_ARGS ("-n 20000 -c 1 -m 1 -t 1") and
# BENCH_SERIAL_WHOAMI_ARGS ("-n 2000 -c 1 -m 1 -t 1") for the one-call-at-a-time
# runs of each round (empty: skip them), BENCH_PORT (gRPC
# port of registryd, default 50181; metrics BENCH_PORT+1, C++ BENCH_PORT+2),
# BENCH_PG_PORT (54349), BENCH_REDIS_PORT (63819): the private PostgreSQL and
# Redis under var/bench/, started and stopped here; the script stops if any
# of its ports is taken. Results under var/bench/results/<time>/.
set -euo pipefail
# shellcheck source=bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"   # ops/lib.sh and what the benchmarks share
bench_instance bench bench_tool.py BENCH 50181 54349 63819
CPP_PORT=$((PORT + 2))

ROUNDS=3 BUILD="" CPP_ONLY=0 KEEP_LOGS=0
BENCH_OPTIONS=(-r ROUNDS --cpp-only CPP_ONLY=1 --keep-logs KEEP_LOGS=1)
bench_args "$@"
HEALTH_ARGS=${BENCH_HEALTH_ARGS:-"-n 200000 -c 16 -m 32 -t 1"}
WHOAMI_ARGS=${BENCH_WHOAMI_ARGS:-"-n 20000 -c 16 -m 32 -t 1"}
# One call at a time: the latency of a call without queueing.
SERIAL_HEALTH_ARGS=${BENCH_SERIAL_HEALTH_ARGS-"-n 20000 -c 1 -m 1 -t 1"}
SERIAL_WHOAMI_ARGS=${BENCH_SERIAL_WHOAMI_ARGS-"-n 2000 -c 1 -m 1 -t 1"}
HEALTH=/grpc.health.v1.Health/Check
WHOAMI=/registry.v1.OrgService/WhoAmI

# registryd is SERVER_PID (bench_lib.sh stops it, PostgreSQL and Redis on exit)
CPP_PID=""
# shellcheck disable=SC2317  # run by bench_cleanup, the EXIT trap
bench_stop_extra() { stop_pid "$CPP_PID" bench_health_cpp; }

bench_build libgrpc++-dev protobuf-compiler-grpc nghttp2-client
CPP_BIN="$BUILD/tests/bench/bench_health_cpp"
[ -x "$CPP_BIN" ] || die "$CPP_BIN missing: configure $BUILD with -DBENCH=ON"
[ "$CPP_ONLY" = 1 ] || [ -x "$REGISTRYD" ] || die "$REGISTRYD missing"

bench_out
PAYLOAD="$OUT/empty-request.bin"
# gRPC message prefix (uncompressed, length 0) + the serialized request: an
# empty HealthCheckRequest and the empty WhoAmIRequest are both zero bytes.
printf '\0\0\0\0\0' >"$PAYLOAD"

# -- servers --------------------------------------------------------------------
# Never reuse what listens on our ports: ops/lib.sh's redis_start would adopt
# a foreign Redis (which we then flush and shut down).
for p in $CPP_PORT $([ "$CPP_ONLY" = 1 ] || echo "$PORT $MPORT"); do
  port_free "$p" || die "port $p is in use (set BENCH_PORT)"
done
if [ "$CPP_ONLY" = 0 ]; then
  port_free "$PG_PORT" || die "port $PG_PORT is in use (set BENCH_PG_PORT)"
  port_free "$REDIS_PORT" || die "port $REDIS_PORT is in use (set BENCH_REDIS_PORT)"
fi

"$CPP_BIN" "127.0.0.1:$CPP_PORT" 2>"$OUT/bench_health_cpp.log" &
CPP_PID=$!
"$PY" "$TOOL" wait "127.0.0.1:$CPP_PORT" ||
  { cat "$OUT/bench_health_cpp.log" >&2; die "bench_health_cpp did not come up"; }

KEY=""
if [ "$CPP_ONLY" = 0 ]; then
  say "private PostgreSQL :$PG_PORT and Redis :$REDIS_PORT under $VAR/$INST"
  PG_UP=1; pg_start "$INST" "$PG_PORT"
  REDIS_UP=1; redis_start "$INST" "$REDIS_PORT"
  # A fresh database each time: bootstrap refuses when an ADMIN exists.
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U registry -d postgres \
    -c "DROP DATABASE IF EXISTS registry WITH (FORCE)" -c "CREATE DATABASE registry" >/dev/null
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  master_key "$VAR/$INST/master.key"
  mkdir -p "$VAR/$INST/lock"
  COMMON=(--pg "host=127.0.0.1 port=$PG_PORT user=registry dbname=registry"
          --redis "127.0.0.1:$REDIS_PORT" --master-key-file "$VAR/$INST/master.key")
  "$REGISTRYD" migrate "${COMMON[@]}" >"$OUT/migrate.log" 2>&1 ||
    { tail -20 "$OUT/migrate.log" >&2; die "registryd migrate failed"; }
  KEY=$("$REGISTRYD" admin bootstrap --name bench "${COMMON[@]}" 2>"$OUT/bootstrap.log") ||
    { tail -20 "$OUT/bootstrap.log" >&2; die "registryd admin bootstrap failed"; }
  [ -n "$KEY" ] && [ "$(printf '%s\n' "$KEY" | wc -l)" = 1 ] ||
    die "admin bootstrap printed $(printf '%s\n' "$KEY" | wc -l) lines, expected one (the key)"
  "$REGISTRYD" serve "${COMMON[@]}" --listen "127.0.0.1:$PORT" \
    --metrics-listen "127.0.0.1:$MPORT" --lock-dir "$VAR/$INST/lock" \
    --rate-limit-per-second 0 >"$OUT/registryd.log" 2>&1 &
  SERVER_PID=$!
  "$PY" "$TOOL" wait "127.0.0.1:$PORT" ||
    { tail -20 "$OUT/registryd.log" >&2; die "registryd did not come up"; }
fi

# -- one run ----------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, all threads

# alive SERVER WHEN: stop with the exit status and the log's tail if the
# server is gone (a crash, or a signal from elsewhere: the log says which).
alive() {
  local pid log
  case $1 in
    ours) pid=$SERVER_PID log=$OUT/registryd.log ;;
    cpp)  pid=$CPP_PID  log=$OUT/bench_health_cpp.log ;;
  esac
  kill -0 "$pid" 2>/dev/null && return 0
  local st=0; wait "$pid" || st=$?
  [ "$1" = ours ] && SERVER_PID="" || CPP_PID=""
  say "$1 server (pid $pid) is gone $2: exit status $st$([ "$st" -gt 128 ] && echo " (signal $((st - 128)))"); last lines of $log:"
  tail -30 "$log" >&2
  die "server gone; results so far in $OUT"
}

# h2load ARGS URL OUTPUT [h2load options...]: one h2load run; its own CPU
# (bash's time: wall user system) goes to OUTPUT-time.txt. h2load shares the
# machine: its CPU shows when the load generator rather than the server is
# the limit.
h2load_run() {
  local args=$1 url=$2 out=$3 TIMEFORMAT='%R %U %S'; shift 3
  # shellcheck disable=SC2086  # the h2load arguments are words on purpose
  { time h2load $args -d "$PAYLOAD" -H 'content-type: application/grpc' -H 'te: trailers' \
      "$@" "$url" >"$out.txt" 2>&1 || true; } 2>"$out-time.txt"
}

# run SERVER METHOD ROUND H2LOAD_ARGS: two h2load passes, then the checks.
#   1. calls/s and server CPU, without --log-file (writing it costs h2load,
#      the limit for registryd's health calls here, 10-20% of its rate);
#   2. the latency percentiles: the same load, half the calls, --log-file.
# The metrics delta must count both passes, every call OK.
run() {
  local server=$1 method=$2 round=$3 args=$4 pid port hdr=() key=() name
  case $server in
    ours) pid=$SERVER_PID port=$PORT ;;
    cpp)  pid=$CPP_PID  port=$CPP_PORT ;;
  esac
  if [ "$method" = "$WHOAMI" ]; then
    hdr=(-H "authorization: Bearer $KEY") key=(--key "$KEY")
  fi
  name=$server.$(basename "$method").$(load_label "$args" | tr -d ' ').$round
  local pfx="$OUT/$name" url="http://127.0.0.1:$port$method" t0 t1 c0 c1 n1 n2
  alive "$server" "before $name"
  if [ "$server" = ours ]; then
    "$PY" "$TOOL" calls "http://127.0.0.1:$MPORT/metrics" "$method" >"$pfx.before.json" || true
  fi
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  h2load_run "$args" "$url" "$pfx.h2load" "${hdr[@]}"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid" 2>/dev/null || echo "$c0")
  alive "$server" "during $name"
  h2load_run "$(scale_n "$args" 2)" "$url" "$pfx.h2load-lat" "${hdr[@]}" --log-file="$pfx.reqlog"
  alive "$server" "during $name (latency pass)"
  n1=$(awk '/^requests:/{print $2}' "$pfx.h2load.txt")
  n2=$(awk '/^requests:/{print $2}' "$pfx.h2load-lat.txt")
  if [ "$server" = ours ]; then
    "$PY" "$TOOL" calls "http://127.0.0.1:$MPORT/metrics" "$method" \
      --since "$pfx.before.json" --expect "$((${n1:-0} + ${n2:-0}))" >"$pfx.after.json" || true
  fi
  "$PY" "$TOOL" check "127.0.0.1:$port" "$method" "${key[@]}" >"$pfx.check.json" || true
  local rec=(--server "$server" --method "$method" --round "$round" --load "$(load_label "$args")"
             --h2load "$pfx.h2load.txt" --h2load-lat "$pfx.h2load-lat.txt"
             --reqlog "$pfx.reqlog" --check "$pfx.check.json"
             --cpu "$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$HZ" \
                       'BEGIN { printf "%.1f", (b - a) / hz / (e - s) * 100 }')"
             --h2load-cpu "$(awk '{ if ($1 > 0) printf "%.1f", ($2 + $3) / $1 * 100 }' \
                             "$pfx.h2load-time.txt")")
  [ "$server" = ours ] && rec+=(--before "$pfx.before.json" --after "$pfx.after.json")
  "$PY" "$TOOL" record "${rec[@]}" >>"$RESULTS"
  [ "$KEEP_LOGS" = 1 ] || rm -f "$pfx.reqlog"
}

load_label() { # "-n 200000 -c 16 -m 32 -t 1" -> "c16 m32"
  awk '{ c = 1; m = 1
         for (i = 1; i < NF; i++) { if ($i == "-c") c = $(i + 1); if ($i == "-m") m = $(i + 1) }
         print "c" c " m" m }' <<<"$1"
}
scale_n() { # ARGS DIVISOR: the same arguments with -n divided
  awk -v d="$2" '{ for (i = 1; i < NF; i++) if ($i == "-n") $(i + 1) = int($(i + 1) / d); print }' <<<"$1"
}

say "h2load health: $HEALTH_ARGS; WhoAmI: $WHOAMI_ARGS; serial: ${SERIAL_HEALTH_ARGS:-none} / ${SERIAL_WHOAMI_ARGS:-none}; $ROUNDS rounds; $(nproc) cores; results in $OUT"
servers=(cpp); [ "$CPP_ONLY" = 1 ] || servers=(ours cpp)
for s in "${servers[@]}"; do run "$s" "$HEALTH" warm "$(scale_n "$HEALTH_ARGS" 10)"; done
[ "$CPP_ONLY" = 1 ] || run ours "$WHOAMI" warm "$(scale_n "$WHOAMI_ARGS" 10)"
for r in $(seq 1 "$ROUNDS"); do
  for s in "${servers[@]}"; do run "$s" "$HEALTH" "$r" "$HEALTH_ARGS"; done
  [ "$CPP_ONLY" = 1 ] || run ours "$WHOAMI" "$r" "$WHOAMI_ARGS"
  if [ -n "$SERIAL_HEALTH_ARGS" ]; then
    for s in "${servers[@]}"; do run "$s" "$HEALTH" "$r" "$SERIAL_HEALTH_ARGS"; done
  fi
  if [ -n "$SERIAL_WHOAMI_ARGS" ] && [ "$CPP_ONLY" = 0 ]; then
    run ours "$WHOAMI" "$r" "$SERIAL_WHOAMI_ARGS"
  fi
done

{
  echo
  echo "$(date -u +%FT%TZ) $(nproc) cores, $(h2load --version 2>/dev/null | head -1)"
  echo "health: h2load $HEALTH_ARGS; WhoAmI: h2load $WHOAMI_ARGS;"
  echo "one call at a time: health h2load ${SERIAL_HEALTH_ARGS:-(skipped)}; WhoAmI h2load ${SERIAL_WHOAMI_ARGS:-(skipped)}"
  echo "$ROUNDS rounds, alternating servers; calls/s from the runs above, p50/p99 from"
  echo "a second run of each with half the calls and h2load --log-file (request sent to response end)"
  [ "$CPP_ONLY" = 1 ] || echo "ours = registryd ($BUILD)"
  echo "cpp = bench_health_cpp, $(head -1 "$OUT/bench_health_cpp.log" | sed 's/^bench_health_cpp: //')"
  echo
} | tee "$OUT/summary.txt"
set +e
"$PY" "$TOOL" summarize "$RESULTS" | tee -a "$OUT/summary.txt"
status=${PIPESTATUS[0]}
set -e
say "results: $OUT"
exit "$status"
