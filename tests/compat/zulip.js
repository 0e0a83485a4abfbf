// tests/compat/zulip.js: what the zulip-js tests share: a server config with Zulip users,
// zulip-js consumers as child processes, and Zulip events as a backend publishes them.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const { baseConfig, publish, waiters, waitFor } = require('./harness.js');

const PUBLIC_STREAM = '{realm}public';

// users[i]: email, a 32-character key, user id and the user's stream, all derived from `id`.
function zulipUser(id) {
  return {
    email: `user${id}@example.com`,
    apiKey: `compatkey${String(id).padStart(4, '0')}`.padEnd(32, 'x'),
    id,
    stream: `{realm}user:${id}`,
  };
}

// A config for `users` (the store: see baseConfig, in harness.js), with generous rate limits
// (zulip-js polls once a second, the tests register many queues). `zulipSettings` adds keys to
// [zulip].
function zulipConfig(users, { dataDir = null, zulipSettings = '' } = {}) {
  let cfg = `${baseConfig({ dataDir })}
[zulip]
public_stream = "${PUBLIC_STREAM}"
rate_limit_per_minute = 100000
${zulipSettings}
`;
  for (const u of users) {
    cfg += `
[[zulip.users]]
email = "${u.email}"
api_key = "${u.apiKey}"
user_id = ${u.id}
full_name = "User ${u.id}"
stream = "${u.stream}"
`;
  }
  return cfg;
}

// A channel message as a Zulip backend publishes it (the `data` of a `message` event).
function messageData(i, { channel = 'Denmark', topic = 'compat', sender = 'iago@example.com' } = {}) {
  return {
    message: {
      id: 1000 + i, type: 'stream', content: `message ${i}`, sender_id: 5,
      sender_email: sender, sender_full_name: 'Iago', display_recipient: channel, stream_id: 3,
      subject: topic, timestamp: 1764650000 + i,
    },
    flags: [],
  };
}

function messages(first, count, options) {
  const out = [];
  for (let i = first; i < first + count; ++i) out.push({ type: 'message', data: messageData(i, options) });
  return out;
}

// A zulip-js bot (`pkg`: 'zulip-js' or 'zulip-js-legacy') following `user` with callOnEachEvent
// in a child process. `events` grows as it reports them; `kill()` ends it.
function startConsumer(server, user, eventTypes, pkg = 'zulip-js') {
  const child = spawn(process.execPath,
    [path.join(__dirname, 'zulip_consumer.js'), pkg, server.url, user.email, user.apiKey,
      JSON.stringify(eventTypes)],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: __dirname });
  const consumer = { events: [], log: '', exited: false };
  let partial = '';
  child.stdout.on('data', (d) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      if (line.startsWith('EVENT ')) consumer.events.push(JSON.parse(line.slice(6)));
      else consumer.log += `${line}\n`;
    }
  });
  child.stderr.on('data', (d) => { consumer.log += d; });
  const exit = new Promise((resolve) => child.on('exit', () => { consumer.exited = true; resolve(); }));
  consumer.kill = async () => {
    if (!consumer.exited) child.kill('SIGKILL');
    await exit;
  };
  consumer.messages = () => consumer.events.filter((e) => e.type === 'message');
  return consumer;
}

// Checks that `got` (message events, as delivered) are messages 0..total-1, each once, in order,
// with increasing ids.
function checkMessages(assert, got, total) {
  assert.strictEqual(got.length, total, `delivered ${got.length} of ${total}`);
  got.forEach((e, i) => {
    assert.strictEqual(e.message.id, 1000 + i, `message ${i} out of order or repeated`);
    if (i > 0) assert.ok(e.id > got[i - 1].id, `event ids increase (${got[i - 1].id}, ${e.id})`);
  });
}

// Publishes `count` messages starting at `first` to `stream`, in batches of `batch`; before each
// batch it waits until `consumer` has delivered every message published before it and is
// parked again (a poll waiting on `stream`), so that every batch wakes a held poll.
async function publishWhileParked(server, stream, consumer, { first, count, batch }) {
  for (let i = first; i < first + count; i += batch) {
    await waitFor(() => consumer.messages().length >= i, 30000,
      `the consumer to have ${i} messages (has ${consumer.messages().length}; log:\n${consumer.log})`);
    await waitFor(async () => (await waiters(server, stream)) >= 1, 30000, 'the consumer to park a poll');
    await publish(server, stream, messages(i, Math.min(batch, first + count - i)));
  }
}

module.exports = {
  PUBLIC_STREAM, zulipUser, zulipConfig, messageData, messages, startConsumer, checkMessages,
  publishWhileParked,
};
