// tests/compat/harness.js: a real eventfeed process for the SDK tests, and the calls they make
// against it through the native API.
//
// `startServer` writes a config (memory store, one publisher key, Box tokens with generous rate
// limits so that an SDK's bursts are never refused) into a temporary directory, runs
// `$EVENTFEED_BINARY serve --config F --listen 127.0.0.1:0` and waits, bounded, for its one
// stdout line `eventfeed listening on 127.0.0.1:<port>`. `stop` sends SIGTERM and waits for the
// exit (SIGKILL after a bound). Tests wait on conditions (`waitFor`), never on fixed sleeps.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PUBLISHER_KEY = 'compat-publisher-key';

function binary() {
  const bin = process.env.EVENTFEED_BINARY;
  if (!bin) throw new Error('EVENTFEED_BINARY is not set (ctest sets it to the eventfeed built)');
  return bin;
}

// Box users: `users[i]` has token `tok-<i>` and stream `box:user:<id>`.
// What every test server's config begins with: two I/O threads, no access log, the store
// (memory, or SQLite in `dataDir`, an absolute path that outlives restarts) and the publisher key.
function baseConfig({ dataDir = null } = {}) {
  return `[server]
threads = 2
access_log = false

[store]
${dataDir ? `backend = "sqlite"\ndata_dir = ${JSON.stringify(dataDir)}` : 'backend = "memory"'}

[[keys]]
name = "publisher"
key = "${PUBLISHER_KEY}"
publish = ["*"]
read = ["*"]
`;
}

function boxConfig(users, boxSettings = '') {
  let cfg = `${baseConfig()}
[box]
rate_limit_per_minute = 100000
${boxSettings}
`;
  for (const u of users) {
    cfg += `
[[box.tokens]]
token = "${u.token}"
user = { id = "${u.id}", name = "${u.name}", login = "${u.login}" }
stream = "${u.stream}"
`;
  }
  return cfg;
}

// Runs eventfeed on `configText`. By default in a fresh temporary directory, on a port the
// kernel picks, the directory removed by `stop`. To restart a server over the same data:
// `dir` (kept: the caller owns it) and `listen` (`127.0.0.1:<port>` of the previous run).
async function startServer(configText, { startupMs = 15000, dir = null, listen = '127.0.0.1:0' } = {}) {
  const ownsDir = dir === null;
  if (ownsDir) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventfeed-compat-'));
  const configPath = path.join(dir, 'eventfeed.toml');
  fs.writeFileSync(configPath, configText);
  const child = spawn(binary(), ['serve', '--config', configPath, '--listen', listen], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within ${startupMs} ms; stderr:\n${stderr}`)), startupMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^eventfeed listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`eventfeed exited (${code ?? signal}) before listening; stderr:\n${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    dir,
    stderr: () => stderr,
    // Ends the process with `signal` (SIGTERM: a clean shutdown; SIGKILL: a crash) and resolves
    // with how it exited; SIGKILL after `boundMs` if it has not.
    async kill(signal, boundMs = 10000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
    async stop(boundMs = 10000) {
      await this.kill('SIGTERM', boundMs);
      if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// POST /v1/streams/{stream}/events with the publisher key; returns {first, last}.
async function publish(server, stream, events) {
  const res = await fetch(`${server.url}/v1/streams/${stream}/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${PUBLISHER_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

// The number of polls parked on `stream`.
async function waiters(server, stream) {
  const res = await fetch(`${server.url}/v1/streams/${stream}`, {
    headers: { Authorization: `Bearer ${PUBLISHER_KEY}` },
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`stream info answered ${res.status}`);
  return body.waiters;
}

// Re-checks `condition` (sync or async) every 20 ms until it holds or `timeoutMs` passes.
async function waitFor(condition, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Box event data for event `i` of a run: what a backend mirroring Box publishes.
function boxEventData(user, i) {
  return {
    created_by: { type: 'user', id: user.id, name: user.name, login: user.login },
    source: { type: 'file', id: String(100000 + i), name: `file-${i}.txt`, etag: '0', sequence_id: '0' },
    session_id: `session-${i}`,
    additional_details: { seq: i },
  };
}

const EVENT_TYPES = ['ITEM_UPLOAD', 'ITEM_CREATE', 'ITEM_MOVE', 'ITEM_RENAME', 'COMMENT_CREATE', 'ITEM_TRASH'];

// Publishes events 0..total-1 for `user` in batches of `batch`; before every other batch it
// waits until the SDK is parked on the realtime URL, so that those events arrive while it
// holds a poll; the batches between go out at once, while it may be fetching.
// `received()` returns how many events the SDK has delivered so far. With `noise` (another
// user), each batch is followed by one event on that user's stream, which must not reach the SDK.
async function publishRun(server, user, { total, batch, received, timeoutMs, noise }) {
  for (let first = 0, n = 0; first < total; first += batch, ++n) {
    if (n % 2 === 0) {
      await waitFor(async () => (await waiters(server, user.stream)) >= 1, timeoutMs,
        `the SDK parked on the realtime URL before batch ${n} (received ${received()})`);
    }
    const events = [];
    for (let i = first; i < Math.min(total, first + batch); ++i) {
      events.push({ type: EVENT_TYPES[i % EVENT_TYPES.length], data: boxEventData(user, i) });
    }
    await publish(server, user.stream, events);
    if (noise) await publish(server, noise.stream, [{ type: 'ITEM_UPLOAD', data: boxEventData(noise, first) }]);
  }
}

// Checks that `seen` (the SDK's events, in delivery order) is the whole run, each once, in
// order; `seqOf(e)` reads an event's index from what the SDK returns.
function checkRun(assert, seen, total, seqOf, typeOf) {
  assert.strictEqual(seen.length, total, `delivered ${seen.length} of ${total}`);
  const ids = new Set();
  seen.forEach((e, i) => {
    assert.strictEqual(seqOf(e), i, `event ${i} out of order`);
    assert.strictEqual(typeOf(e), EVENT_TYPES[i % EVENT_TYPES.length]);
    ids.add(e.event_id ?? e.eventId);
  });
  assert.strictEqual(ids.size, total, 'every event id once');
}

// Follows an SDK's event stream (`stream`, a Readable of events) while the run is published:
// returns the events it delivered and the errors it reported, once it has delivered `total`
// and parked on the realtime URL again (`noise`: see publishRun) (so anything extra would have come by then). The stream
// is destroyed at the end, whatever happened.
async function followRun(server, user, stream, total, noise) {
  const seen = [];
  const errors = [];
  stream.on('error', (e) => errors.push(e));
  stream.on('data', (event) => seen.push(event));
  try {
    await publishRun(server, user, { total, batch: 50, received: () => seen.length, timeoutMs: 30000, noise });
    await waitFor(() => seen.length >= total, 60000, `${total} events (have ${seen.length})`);
    await waitFor(async () => (await waiters(server, user.stream)) >= 1, 30000, 'the stream parked again');
  } finally {
    stream.destroy();
  }
  return { seen, errors };
}

module.exports = {
  PUBLISHER_KEY, baseConfig, boxConfig, startServer, publish, waiters, waitFor, boxEventData, publishRun,
  followRun, checkRun, EVENT_TYPES,
};
