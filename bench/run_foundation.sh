#!/usr/bin/env bash
# bench/run_foundation.sh: the foundation measurements of docs/benchmarks.md, in one command.
#
#   (a) publish-to-delivery latency: 1,000 long-polls parked on one stream, 100 messages, the
#       subscribers split over 2 load-generator processes so the client can use both cores
#       (target p99 < 5 ms), on the memory store and on SQLite (the default backend);
#   (b) server RSS per parked poll: 10,000 polls parked over 1,000 streams, VmRSS of a fresh
#       server before and after (target <= 4 KiB each).
# Builds a release (RelWithDebInfo) of the server and the load generator, starts the server on
# a free loopback port with bench/bench.toml, runs eventfeed-loadgen, prints a table, and stops
# everything it started. Everything stays on 127.0.0.1 and every step is bounded in time.
#
# Environment: BUILD_DIR (default build/release), JOBS (build parallelism, default nproc),
# SKIP_BUILD=1 (use what BUILD_DIR has), SQLITE=0 (skip the SQLite latency row),
# KEEP=1 (keep the temporary directory with the raw JSON and server logs).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
SQLITE=${SQLITE:-1}
KEY=bench-key-0001

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    if [ "$BUILD_DIR" = build/release ]; then
      cmake --preset release >/dev/null
    else
      cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DEVENTFEED_BUILD_TESTS=OFF >/dev/null
    fi
  fi
  cmake --build "$BUILD_DIR" -j "$JOBS" --target eventfeed eventfeed-loadgen
fi
SERVER="$BUILD_DIR/src/eventfeed"
LOADGEN="$BUILD_DIR/bench/eventfeed-loadgen"
[ -x "$SERVER" ] && [ -x "$LOADGEN" ] || { echo "run_foundation: build $SERVER and $LOADGEN first" >&2; exit 1; }

# 10,000 sockets on each side: take the hard limit (20,000 on the bench machine).
ulimit -n "$(ulimit -Hn)"

TMP=$(mktemp -d /tmp/eventfeed-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "raw results kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# start_server CONFIG NAME: starts the server, sets SERVER_PID and PORT.
start_server() {
  local config=$1 name=$2
  "$SERVER" serve --config "$config" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^eventfeed listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/$name.out" | head -n1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "run_foundation: the server never said where it listens" >&2; exit 1; }
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"

# (a) latency, memory store.
start_server bench/bench.toml memory
echo "(a) memory store: 1,000 subscribers on one stream, 100 messages (load average $(loadavg))"
timeout 300 "$LOADGEN" --mode fanout --port "$PORT" --key "$KEY" -n 1000 -m 1 -k 100 -p 2 \
  --server-pid "$SERVER_PID" --max-seconds 240 | tee "$TMP/a-memory.txt" | sed -n '2,8p' || true
stop_server

# (a) latency, SQLite store (commit before notify: the durable path).
if [ "$SQLITE" = 1 ]; then
  mkdir -p "$TMP/data"
  sed -e 's|^backend = "memory"|backend = "sqlite"\ndata_dir = "'"$TMP"'/data"|' bench/bench.toml \
    >"$TMP/sqlite.toml"
  start_server "$TMP/sqlite.toml" sqlite
  echo "(a) SQLite store: 1,000 subscribers on one stream, 100 messages (load average $(loadavg))"
  timeout 300 "$LOADGEN" --mode fanout --port "$PORT" --key "$KEY" -n 1000 -m 1 -k 100 -p 2 \
    --server-pid "$SERVER_PID" --max-seconds 240 | tee "$TMP/a-sqlite.txt" | sed -n '2,8p' || true
  stop_server
fi

# (b) memory per parked poll, on a fresh server.
start_server bench/bench.toml idle
echo "(b) 10,000 polls parked over 1,000 streams (load average $(loadavg))"
timeout 300 "$LOADGEN" --mode idle --port "$PORT" --key "$KEY" -n 10000 -m 1000 --hold 1 \
  --server-pid "$SERVER_PID" --max-seconds 240 | tee "$TMP/b-idle.txt" | sed -n '2,4p' || true
stop_server

python3 - "$TMP" <<'EOF'
import json, os, sys
tmp = sys.argv[1]
def result(name):
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        return None
    lines = [l for l in open(path) if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None

rows = []
for label, name in (("memory", "a-memory.txt"), ("sqlite", "a-sqlite.txt")):
    r = result(name)
    if r is None:
        continue
    lat, srv = r.get("latency", {}), r.get("server", {})
    rows.append((f"(a) latency, 1,000 waiters on 1 stream, 100 msgs, {label} store",
                 f"p50 {lat.get('p50_us', 0)/1e3:.2f} ms, p99 {lat.get('p99_us', 0)/1e3:.2f} ms, "
                 f"max {lat.get('max_us', 0)/1e3:.2f} ms",
                 "p99 < 5 ms", "met" if r["ok"] and lat.get("p99_us", 1e12) < 5000 else "MISSED"))
    rows.append(("    deliveries (exactly once)",
                 f"{r['deliveries']}/{r['expected']}, lost {r['lost']}, dup {r['duplicates']}",
                 "all, once", "met" if r["ok"] else "FAILED"))
    rows.append(("    server CPU per delivery",
                 f"{srv.get('cpu_us_per_delivery', -1):.1f} us ({srv.get('cpu_s', -1):.2f} s)",
                 "-", ""))
    rows.append(("    deliveries/s (lockstep rounds)", f"{r['deliveries_per_s']:.0f}", "-", ""))
    rows.append(("    load generator CPU", f"{r['loadgen_cpu_s']:.2f} s", "-", ""))
b = result("b-idle.txt")
if b is not None:
    s = b.get("server", {})
    per = s.get("rss_per_parked_poll_bytes", -1)
    rows.append(("(b) RSS per parked poll, 10,000 polls on 1,000 streams",
                 f"{per:.0f} bytes ({s.get('rss_idle_kib')} -> {s.get('rss_parked_kib')} KiB)",
                 "<= 4096 bytes", "met" if b["ok"] and 0 <= per <= 4096 else "MISSED"))
    rows.append(("    RSS after the polls closed", f"{s.get('rss_after_close_kib', -1)} KiB", "-", ""))
w = max(len(r[0]) for r in rows)
v = max(len(r[1]) for r in rows)
print()
print(f"{'measurement'.ljust(w)}  {'result'.ljust(v)}  {'target'.ljust(13)}  verdict")
for r in rows:
    print(f"{r[0].ljust(w)}  {r[1].ljust(v)}  {r[2].ljust(13)}  {r[3]}")
EOF
