#!/usr/bin/env bash
# bench/run_store.sh: the store's publish measurements of docs/benchmarks.md ("Store"), in one
# command.
#
# For each store (memory, sqlite durability=normal, sqlite durability=full) it starts a fresh
# server (bench/bench.toml; SQLite in a fresh temporary data directory) and runs eventfeed-loadgen
# --mode publish three times against it:
#   (1) 64 publishers, batch 1, closed loop for DURATION s  -> acknowledged publishes/s
#   (2) 64 publishers, batch 100, closed loop for DURATION s -> events/s
#   (3) 64 publishers, batch 1, open loop at RATE requests/s for DURATION s -> ack latency p99
#       (measured from each request's due time, so a stall counts for every request it delays)
# then stops the server and prints one markdown table with the three stores side by side and the
# ratio sqlite/memory. Everything stays on 127.0.0.1, every step is bounded in time (the whole
# run takes about 2 minutes after the build), and the temporary directory is removed at the end.
#
# Environment: BUILD_DIR (default build/release), JOBS (build parallelism, default nproc),
# SKIP_BUILD=1 (use what BUILD_DIR has), DURATION (seconds per case, default 10), RATE (open-loop
# requests/s, default 5000), PUBLISHERS (default 64), PROCS (load-generator processes, default 2),
# STORES (default "memory normal full"), KEEP=1 (keep the raw JSON and server logs).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
DURATION=${DURATION:-10}
RATE=${RATE:-5000}
PUBLISHERS=${PUBLISHERS:-64}
PROCS=${PROCS:-2}
STORES=${STORES:-memory normal full}
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
[ -x "$SERVER" ] && [ -x "$LOADGEN" ] || { echo "run_store: build $SERVER and $LOADGEN first" >&2; exit 1; }

TMP=$(mktemp -d /tmp/eventfeed-store-bench.XXXXXX)
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
  [ -n "$PORT" ] || { echo "run_store: the server never said where it listens" >&2; exit 1; }
}

stop_server() {
  kill -TERM "$SERVER_PID"
  # A bounded wait: a server that does not stop within 10 s is killed (by its pid, ours).
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# publish NAME ARGS...: one loadgen run, its output kept in $TMP/NAME.txt.
publish() {
  local name=$1
  shift
  echo "  $name (load average $(loadavg))"
  timeout $((DURATION + 60)) "$LOADGEN" --mode publish --port "$PORT" --key "$KEY" \
    -c "$PUBLISHERS" -p "$PROCS" -d "$DURATION" --server-pid "$SERVER_PID" --max-seconds \
    $((DURATION + 40)) --channel-prefix "$name" "$@" | tee "$TMP/$name.txt" | sed -n '2,5p' || true
  echo "$(loadavg)" >"$TMP/$name.load"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(df -T "$TMP" | awk 'NR==2 {print $2}') under $TMP"
echo "load average before: $(loadavg)"
for store in $STORES; do
  case $store in
    memory) cp bench/bench.toml "$TMP/$store.toml" ;;
    normal | full)
      mkdir -p "$TMP/data-$store"
      sed -e 's|^backend = "memory"|backend = "sqlite"\ndata_dir = "'"$TMP"'/data-'"$store"'"\ndurability = "'"$store"'"|' \
        bench/bench.toml >"$TMP/$store.toml"
      ;;
    *) echo "run_store: unknown store '$store' (memory, normal, full)" >&2; exit 2 ;;
  esac
  start_server "$TMP/$store.toml" "$store"
  echo "$store store (server pid $SERVER_PID, port $PORT)"
  publish "${store}_b1" -b 1
  publish "${store}_b100" -b 100
  publish "${store}_open" -b 1 -r "$RATE"
  stop_server
  rm -rf "$TMP/data-$store"
done
echo "load average after: $(loadavg)"

python3 - "$TMP" "$STORES" "$RATE" "$PUBLISHERS" <<'PY'
import json, os, sys
tmp, stores, rate, pubs = sys.argv[1], sys.argv[2].split(), float(sys.argv[3]), sys.argv[4]
def result(name):
    path = os.path.join(tmp, name + ".txt")
    if not os.path.exists(path):
        return None
    lines = [l for l in open(path) if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None
label = {"memory": "memory", "normal": "sqlite normal", "full": "sqlite full"}
r = {s: {c: result(f"{s}_{c}") for c in ("b1", "b100", "open")} for s in stores}

def num(v, fmt):
    return "n/a" if v is None else fmt.format(v)
def get(res, *path):
    for p in path:
        if res is None or p not in res:
            return None
        res = res[p]
    return res
def errs(res):
    if res is None:
        return "no result"
    e = res["errors"]["total"]
    return "0" if e == 0 and res["ok"] else f"{e} ({res['first_error'][:60]})"

def b1(res, key):
    return None if res is None else res["latency"][key] / 1e3
def lat(res):
    return "n/a" if res is None else f"{b1(res, 'p50_us'):.2f} / {b1(res, 'p99_us'):.2f}"
def open_rest(res):
    if res is None:
        return "n/a"
    return f"{b1(res, 'p50_us'):.2f} / {b1(res, 'max_us'):.1f}; {res['acks_per_s']:,.0f}"

# (title, case, value function, format, ratio?)
rows = [
    (f"{pubs} publishers, batch 1, closed loop: acked publishes/s", "b1",
     lambda x: get(x, "acks_per_s"), "{:,.0f}", True),
    ("    ack latency p50 / p99 (ms)", "b1", lat, None, False),
    ("    server CPU per event (us)", "b1", lambda x: get(x, "server", "cpu_us_per_event"), "{:.1f}", True),
    (f"{pubs} publishers, batch 100, closed loop: events/s", "b100",
     lambda x: get(x, "events_per_s"), "{:,.0f}", True),
    ("    ack latency p50 / p99 (ms)", "b100", lat, None, False),
    ("    server CPU per event (us)", "b100", lambda x: get(x, "server", "cpu_us_per_event"), "{:.2f}", True),
    ("    bytes written to storage per event, batch 1 / batch 100", "write", None, None, False),
    (f"open loop {rate:,.0f} publishes/s, batch 1: ack p99 (ms)", "open",
     lambda x: b1(x, "p99_us"), "{:.2f}", True),
    ("    p50 / max (ms); achieved publishes/s", "open", open_rest, None, False),
]
hdr = ["measurement"] + [label[s] for s in stores]
ratios = [s for s in stores if s != "memory"] if "memory" in stores else []
hdr += [f"{label[s]} / memory" for s in ratios]
print()
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for title, case, value, fmt, ratio in rows:
    cells, vals = [], {}
    for s in stores:
        if case == "write":
            w = [get(r[s][c], "server", "write_bytes_per_event") for c in ("b1", "b100")]
            cells.append(" / ".join(num(x, "{:,.0f}") for x in w))
            continue
        v = value(r[s][case])
        vals[s] = v
        cells.append(v if fmt is None else num(v, fmt))
    for s in ratios:
        ok = ratio and isinstance(vals.get(s), (int, float)) and vals.get("memory")
        cells.append(f"{vals[s] / vals['memory']:.2f}" if ok else "")
    print("| " + " | ".join([title] + cells) + " |")
cells = [", ".join(errs(r[s][c]) for c in ("b1", "b100", "open")) for s in stores]
print("| " + " | ".join(["errors (batch 1, batch 100, open loop)"] + cells + [""] * len(ratios)) + " |")
PY
