# Shared by ops/run and ops/test: install what is missing, build, and run a
# private PostgreSQL and Redis under var/ (PostgreSQL as an unprivileged user:
# it refuses to run as root). Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR="$ROOT/var"
PGBIN=/usr/lib/postgresql/15/bin
PG_USER_NAME=registry-pg

DEBIAN_PACKAGES=(
  build-essential cmake pkg-config
  libevent-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libpq-dev postgresql-15 redis-server libhiredis-dev libsodium-dev libssl-dev
  libcmocka-dev libinih-dev libjansson-dev grpc-proto
  python3-grpcio python3-protobuf python3-nacl nghttp2-client
)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [cmake args...]
build() {
  local dir=$1; shift
  cmake -S "$ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

# The user PostgreSQL runs as: ourselves, or a system user when we are root.
pg_user() { if [ "$(id -u)" = 0 ]; then echo "$PG_USER_NAME"; else id -un; fi; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER_NAME" -- "$@"; else "$@"; fi
}
ensure_pg_user() {
  [ "$(id -u)" = 0 ] || return 0
  id "$PG_USER_NAME" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_NAME"
}

# pg_dir NAME: the data directory for instance NAME. Under var/ when the
# PostgreSQL user can reach it; otherwise (a clone under a private home
# directory, root running) under /var/tmp, named after the clone.
pg_dir() {
  local name=$1 d="$VAR/$1/pg"
  mkdir -p "$VAR/$name"
  if [ "$(id -u)" = 0 ] && ! runuser -u "$PG_USER_NAME" -- test -x "$VAR/$name" 2>/dev/null; then
    d="/var/tmp/registry-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)-$name/pg"
  fi
  echo "$d"
}

# pg_start NAME PORT [extra postgres -c settings...]
pg_start() {
  local name=$1 port=$2; shift 2
  ensure_pg_user
  local data; data=$(pg_dir "$name")
  local sock="$data/../sock"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$data" "$sock"
    chown "$PG_USER_NAME" "$data" "$sock" "$(dirname "$data")"
    chmod 700 "$data"
  else
    mkdir -p "$data" "$sock"; chmod 700 "$data"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initdb $data"
    as_pg "$PGBIN/initdb" -D "$data" -U registry --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local opts="-p $port -k $sock -c listen_addresses=127.0.0.1"
  local s; for s in "$@"; do opts="$opts -c $s"; done
  if ! as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/../postgres.log" -o "$opts" -w start >/dev/null ||
      { tail -20 "$data/../postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  local i; for i in $(seq 50); do
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1
  done
  psql -q -h 127.0.0.1 -p "$port" -U registry -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='registry'" | grep -q 1 ||
    psql -q -h 127.0.0.1 -p "$port" -U registry -d postgres -c "CREATE DATABASE registry" >/dev/null
}

pg_stop() {
  local data; data=$(pg_dir "$1")
  [ -f "$data/PG_VERSION" ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# redis_start NAME PORT
redis_start() {
  local name=$1 port=$2 dir="$VAR/$1/redis"
  mkdir -p "$dir"
  if redis-cli -p "$port" ping >/dev/null 2>&1; then return 0; fi
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null
  local i; for i in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not start"
}

redis_stop() {
  local port=$2
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}

# master_key FILE: 32 random bytes as 64 hex characters, mode 0600.
master_key() {
  local f=$1
  [ -s "$f" ] && return 0
  ( umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"; echo >> "$f" )
}

# stop_pid PID NAME: SIGTERM, then SIGKILL after 15 s (scripts that start
# servers of their own, e.g. the benchmarks).
stop_pid() { # PID NAME: SIGTERM, then SIGKILL after 15 s
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$2 (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
