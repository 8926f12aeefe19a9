# Shared plumbing of the distributed-mode benchmarks (ingest.sh, sidecar-memory.sh, spool.sh); sourced, not run.
# The release binary, free loopback ports, a throwaway Postgres cluster, metric scraping, and one EXIT trap that
# stops every process these scripts started (by pid) and removes their temp dirs.

scratch="${SCRATCH_PATH:-.build}"  # a separate build folder keeps a debug build in .build undisturbed
work="$(mktemp -d "${TMPDIR:-/tmp}/agentledger-bench.XXXXXX")"
bench_pids=()
pg_root=""

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop
  rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_build() {
  # AGENTLEDGER_BIN: measure that binary as it is (e.g. a copy of an earlier build), no build.
  if [ -n "${AGENTLEDGER_BIN:-}" ]; then bin="$AGENTLEDGER_BIN"; return; fi
  swift build -c release --product agentledger --scratch-path "$scratch" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; exit 1; }
  bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/agentledger"
}

# An nginx config in $work answering every request with one fixed chat-completions JSON: the fast mock upstream.
write_nginx_conf() { # port
  cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$1;
    keepalive_requests 1000000;
    location / {
      default_type application/json;
      return 200 '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":8,"total_tokens":520}}';
    }
  }
}
CONF
}

# The same nginx, but a request with the header `x-bench-stream` (sse_first_byte.py sends it for streamed requests)
# gets a fixed chat-completions event stream instead: ten `data:` events with usage, and `[DONE]`.
write_nginx_conf_with_stream() { # port
  python3 - "$work/nginx.conf" "$work" "$1" <<'PY'
import json, sys
conf, work, port = sys.argv[1], sys.argv[2], sys.argv[3]
events = []
for word in "The answer is forty two , as the tests said .".split():
    chunk = {"id": "chatcmpl-sse", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
    events.append("data: " + json.dumps(chunk) + "\\n\\n")
usage = {"id": "chatcmpl-sse", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini",
         "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22}}
events.append("data: " + json.dumps(usage) + "\\n\\n")
events.append("data: [DONE]\\n\\n")
stream = "".join(events).replace("'", "\\'")
whole = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer is 42."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 512, "completion_tokens": 8, "total_tokens": 520}})
with open(conf, "w") as f:
    f.write(f"""daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 1000000;
    location / {{
      if ($http_x_bench_stream) {{ rewrite ^ /bench-stream last; }}
      default_type application/json;
      return 200 '{whole}';
    }}
    location = /bench-stream {{
      internal;
      default_type text/event-stream;
      return 200 '{stream}';
    }}
  }}
}}
""")
PY
}

# A wrk script in $work/request.lua sending a ~2 KB chat request, as an agent with a short history sends.
write_chat_request() {
  python3 - "$work/request.lua" <<'PY'
import json, sys
history = [{"role": "system", "content": "You are a careful research assistant. " * 8}]
for i in range(6):
    history.append({"role": "user", "content": f"Question {i}: what changed in the quarterly numbers and why? " * 2})
    history.append({"role": "assistant", "content": f"Answer {i}: revenue grew on volume; margins held. " * 2})
body = json.dumps({"model": "gpt-4o-mini", "messages": history, "temperature": 0.2})
with open(sys.argv[1], "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    f.write('wrk.headers["Authorization"] = "Bearer sk-bench"\n')
    f.write('wrk.headers["x-agentledger-session-id"] = "bench"\n')
    f.write("wrk.body = " + json.dumps(body) + "\n")
print(f"request body: {len(body)} bytes", file=sys.stderr)
PY
}

# need_tools TOOL...: stops with the Debian package to install for the first tool missing.
need_tools() {
  local tool package
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    case $tool in psql | pgbench) package=postgresql ;; callgrind_control) package=valgrind ;; *) package=$tool ;; esac
    echo "missing $tool: apt-get install -y $package" >&2
    exit 1
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 10 s for a URL to answer 2xx.
wait_http() {
  local _
  for _ in $(seq 1 100); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

# metric URL NAME: the value of one Prometheus sample (0 when absent or unreachable). Gauges are written as floats
# ("1.0"); a whole number is printed without its ".0", so `[ "$(metric ...)" = 1 ]` holds for builds before and after.
metric() {
  curl -s --max-time 2 "$1" 2>/dev/null |
    awk -v n="$2" '$1==n {v=$2; sub(/\.0$/, "", v); print v; found=1} END {if (!found) print 0}'
}

# Resident set of a process in KiB, and its peak so far (VmHWM).
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# "anon X MiB, file Y MiB": heap and stacks versus mapped binaries and libraries (Foundation, ICU data).
rss_split() {
  awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {s=$2}
    END {printf "anon %.1f MiB, file %.1f MiB, shmem %.1f MiB", a/1024, f/1024, s/1024}' "/proc/$1/status"
}

# Milliseconds one core takes for a fixed Python loop, the best of three: how fast this shared machine runs right
# now. Its speed swings by a third or more within minutes, so figures that depend on it are printed beside this.
reference_ms() {
  python3 -c '
import time
def once():
    start = time.perf_counter()
    sum(i * i for i in range(1_000_000))
    return time.perf_counter() - start
print(round(min(once() for _ in range(3)) * 1000))'
}

# CPU seconds (user + system) a process has used.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }

# A process's user and system CPU so far, in clock ticks: "user system".
cpu_split() { awk '{print $14, $15}' "/proc/$1/stat"; }

as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

# A private cluster on a free loopback port with Postgres's default durability (fsync and synchronous_commit on),
# database `agentledger`. Sets pg_port, pg_dsn and pg_bin.
pg_start() {
  pg_bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
  [ -x "$pg_bin/initdb" ] || { echo "no Postgres: apt-get install -y postgresql" >&2; exit 1; }
  pg_root="$(mktemp -d "${TMPDIR:-/tmp}/agentledger-bench-pg.XXXXXX")"
  ((EUID == 0)) && chown postgres: "$pg_root"
  pg_port=$(free_port)
  as_pg "$pg_bin/initdb" -D "$pg_root/data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
  as_pg tee -a "$pg_root/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_root'
CONF
  as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w start >/dev/null
  psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE agentledger" >/dev/null
  pg_dsn="postgres://postgres@127.0.0.1:$pg_port/agentledger?sslmode=disable"
}

pg_stop() {
  [ -n "$pg_root" ] || return 0
  as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$pg_root"
  pg_root=""
}

# One SQL statement on the benchmark database; prints the unaligned result.
pg_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d "${pg_db:-agentledger}" -c "$1"; }

# pg_use_db NAME: makes database NAME if missing; pg_sql and collectors started after use it (pg_db, pg_dsn).
pg_use_db() {
  if [ -z "$(psql -X -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; then
    psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE $1" >/dev/null
  fi
  pg_db=$1
  pg_dsn="postgres://postgres@127.0.0.1:$pg_port/$1?sslmode=disable"
}

# Empties the calls and what derives from them, in the schema of whichever build migrated the database.
pg_truncate_calls() {
  pg_sql "DO \$\$ BEGIN EXECUTE (SELECT 'TRUNCATE ' || string_agg(quote_ident(tablename), ', ') FROM pg_tables
    WHERE schemaname = 'public' AND tablename IN ('calls', 'call_ids', 'sessions', 'messages')); END \$\$" >/dev/null
}

# CPU seconds of the cluster: the postmaster with its reaped children (backends that have exited), plus the live ones.
pg_cpu_seconds() {
  local main pid total hz
  hz=$(getconf CLK_TCK)
  main=$(head -1 "$pg_root/data/postmaster.pid")
  total=$(awk -v hz="$hz" '{printf "%.2f", ($14 + $15 + $16 + $17) / hz}' "/proc/$main/stat")
  for pid in $(pgrep -P "$main"); do
    total=$(awk -v t="$total" -v hz="$hz" '{printf "%.2f", t + ($14 + $15) / hz}' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}

# start_collector LOG: `agentledger collector` on pg_dsn with ingest on $ingest_port and API on $api_port.
start_collector() {
  AGENTLEDGER_DSN="$pg_dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="$api_port" LOG_LEVEL=warning \
    "$bin" collector >>"$1" 2>&1 &
  collector_pid=$!
  bench_pids+=("$collector_pid")
  wait_http "http://127.0.0.1:$api_port/healthz"
}

stop_collector() {
  kill "$collector_pid" 2>/dev/null || true
  wait "$collector_pid" 2>/dev/null || true
}

# A collector on SQLite and a sidecar in front of the upstream on $1, as split processes: the collector on core 1,
# the sidecar alone on core 0. Sets $proxy_port and waits until the sidecar's collector link is up.
start_split_sidecar() { # upstream port
  local ingest_port api_port
  ingest_port=$(free_port); api_port=$(free_port); proxy_port=$(free_port)
  env AGENTLEDGER_DSN="sqlite:///$work/ledger.db" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="$api_port" LOG_LEVEL=warning \
    taskset -c 1 "$bin" collector >"$work/collector.log" 2>&1 &
  bench_pids+=($!)
  wait_http "http://127.0.0.1:$api_port/healthz"
  env AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT="$proxy_port" AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$1" \
    AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" AGENTLEDGER_SPOOL_DIR="$work/spool" LOG_LEVEL=warning \
    taskset -c 0 "$bin" sidecar >"$work/sidecar.log" 2>&1 &
  bench_pids+=($!)
  for _ in $(seq 1 100); do
    [ "$(metric "http://127.0.0.1:$proxy_port/agentledger/metrics" agentledger_sidecar_collector_link_up)" = 1 ] && break
    sleep 0.1
  done
}
