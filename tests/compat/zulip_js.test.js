// zulip-js (the official JavaScript client, 2.1.0, and 2.0.9 as zulip-js-legacy) against a
// real eventfeed process: callOnEachEvent, register with event_types and a narrow, dont_block,
// deregister, and a consumer that lives through a SIGTERM and a SIGKILL restart of the server.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zulip = require('zulip-js');
const { startServer, publish, waiters, waitFor } = require('./harness.js');
const {
  PUBLIC_STREAM, zulipUser, zulipConfig, messages, startConsumer, checkMessages, publishWhileParked,
} = require('./zulip.js');

const alice = zulipUser(11);
const bob = zulipUser(12);

async function client(server, user) {
  return zulip({ username: user.email, apiKey: user.apiKey, realm: server.url });
}

test('callOnEachEvent hands over 1,000 messages in order, each once, and none of another type or user', async () => {
  const server = await startServer(zulipConfig([alice, bob]));
  const consumer = startConsumer(server, alice, ['message']);
  try {
    const total = 1000;
    for (let i = 0; i < total; i += 100) {
      await publishWhileParked(server, alice.stream, consumer, { first: i, count: 100, batch: 50 });
      // What the queue's filter and stream set keep out: another type on alice's stream, and a
      // message on bob's.
      await publish(server, alice.stream, [{ type: 'presence', data: { user_id: 5, email: 'iago@example.com', presence: {} } }]);
      await publish(server, bob.stream, messages(5000 + i, 1));
    }
    await waitFor(() => consumer.messages().length >= total, 60000,
      `${total} messages (have ${consumer.messages().length}; log:\n${consumer.log})`);
    // A last message proves nothing else was queued before it.
    await publish(server, alice.stream, messages(total, 1));
    await waitFor(() => consumer.messages().length >= total + 1, 30000, 'the last message');
    checkMessages(assert, consumer.messages(), total + 1);
    const others = consumer.events.filter((e) => e.type !== 'message' && e.type !== 'heartbeat');
    assert.deepStrictEqual(others, [], 'only message events (and heartbeats) reach the callback');
  } finally {
    await consumer.kill();
    await server.stop();
  }
});

test('zulip-js 2.0.9 sends eventTypes, which is ignored: its queue gets every type, as on Zulip', async () => {
  const server = await startServer(zulipConfig([alice]));
  const consumer = startConsumer(server, alice, ['message'], 'zulip-js-legacy');
  try {
    await publishWhileParked(server, alice.stream, consumer, { first: 0, count: 20, batch: 10 });
    await publish(server, alice.stream, [{ type: 'presence', data: { user_id: 5, email: 'iago@example.com', presence: {} } }]);
    await waitFor(() => consumer.events.some((e) => e.type === 'presence'), 30000,
      `the presence event (log:\n${consumer.log})`);
    checkMessages(assert, consumer.messages(), 20);
  } finally {
    await consumer.kill();
    await server.stop();
  }
});

test('register with event_types and a narrow receives only what matches', async () => {
  const server = await startServer(zulipConfig([alice]));
  try {
    const z = await client(server, alice);
    const reg = await z.queues.register({ event_types: ['message'], narrow: [['stream', 'Denmark'], ['topic', 'lunch']] });
    assert.strictEqual(reg.result, 'success', JSON.stringify(reg));
    assert.strictEqual(typeof reg.queue_id, 'string');
    assert.strictEqual(reg.last_event_id, -1);

    // On the realm's public stream (a narrow follows it): two that match among others, and on
    // alice's own stream a message of another channel and an event of another type.
    await publish(server, PUBLIC_STREAM, [
      ...messages(0, 1, { channel: 'Denmark', topic: 'lunch' }),
      ...messages(1, 1, { channel: 'Sweden', topic: 'lunch' }),
      ...messages(2, 1, { channel: 'Denmark', topic: 'dinner' }),
      ...messages(3, 1, { channel: 'denmark', topic: 'Lunch' }),
    ]);
    await publish(server, alice.stream, [
      ...messages(4, 1, { channel: 'Norway', topic: 'lunch' }),
      { type: 'presence', data: { user_id: 5, email: 'iago@example.com', presence: {} } },
    ]);
    const res = await z.events.retrieve({ queue_id: reg.queue_id, last_event_id: -1, dont_block: true });
    assert.strictEqual(res.result, 'success', JSON.stringify(res));
    assert.deepStrictEqual(res.events.map((e) => e.message.id), [1000, 1003]);
    assert.ok(res.events.every((e) => e.type === 'message'));
  } finally {
    await server.stop();
  }
});

test('dont_block answers at once, even with nothing to hand over', async () => {
  // Heartbeats far off: a poll that waited would not answer within the test's bound.
  const server = await startServer(zulipConfig([alice], { zulipSettings: 'heartbeat_seconds = 300\nheartbeat_jitter_seconds = 0' }));
  try {
    const z = await client(server, alice);
    const reg = await z.queues.register({ event_types: ['message'] });
    const started = Date.now();
    const res = await z.events.retrieve({ queue_id: reg.queue_id, last_event_id: -1, dont_block: true });
    assert.strictEqual(res.result, 'success', JSON.stringify(res));
    assert.deepStrictEqual(res.events, []);
    assert.ok(Date.now() - started < 30000, 'answered without waiting for a heartbeat');

    // And without dont_block the same poll waits for the next event.
    const waiting = z.events.retrieve({ queue_id: reg.queue_id, last_event_id: -1, dont_block: false });
    await waitFor(async () => (await waiters(server, alice.stream)) >= 1, 30000, 'the poll to park');
    await publish(server, alice.stream, messages(0, 1));
    const woken = await waiting;
    assert.deepStrictEqual(woken.events.map((e) => e.message.id), [1000]);
  } finally {
    await server.stop();
  }
});

test('deregister, then a poll of that queue is BAD_EVENT_QUEUE_ID', async () => {
  const server = await startServer(zulipConfig([alice]));
  try {
    const z = await client(server, alice);
    const reg = await z.queues.register({ event_types: ['message'] });
    const gone = await z.queues.deregister({ queue_id: reg.queue_id });
    assert.deepStrictEqual([gone.result, gone.msg], ['success', '']);
    const res = await z.events.retrieve({ queue_id: reg.queue_id, last_event_id: -1, dont_block: true });
    assert.strictEqual(res.result, 'error');
    assert.strictEqual(res.code, 'BAD_EVENT_QUEUE_ID');
    assert.strictEqual(res.queue_id, reg.queue_id);
    assert.strictEqual(res.msg, `Bad event queue ID: ${reg.queue_id}`);
  } finally {
    await server.stop();
  }
});

// The server on SQLite is stopped with `signal` twice while a zulip-js consumer follows alice,
// and started again on the same port and data; the consumer, which never re-registers, must get
// every message once, in order.
async function restartRun(signal) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventfeed-compat-zulip-'));
  const config = zulipConfig([alice], { dataDir: path.join(dir, 'data') });
  let server = await startServer(config, { dir });
  const consumer = startConsumer(server, alice, ['message']);
  try {
    const total = 1000;
    const legs = 3;
    const perLeg = Math.ceil(total / legs);
    for (let leg = 0, first = 0; first < total; ++leg, first += perLeg) {
      if (leg > 0) {
        // The previous leg's last 50 messages went out without waiting for the consumer: some
        // may be undelivered, or delivered and not yet acknowledged, when the server goes.
        const how = await server.kill(signal);
        assert.ok(signal === 'SIGKILL' ? how.signal === 'SIGKILL' : how.code === 0,
          `the server ended by ${signal}: ${JSON.stringify(how)}\n${server.stderr()}`);
        server = await startServer(config, { dir, listen: `127.0.0.1:${server.port}` });
      }
      const count = Math.min(perLeg, total - first);
      await publishWhileParked(server, alice.stream, consumer, { first, count: count - 50, batch: 50 });
      await publish(server, alice.stream, messages(first + count - 50, 50));
    }
    await waitFor(() => consumer.messages().length >= total, 60000,
      `${total} messages (have ${consumer.messages().length}; log:\n${consumer.log})`);
    await publish(server, alice.stream, messages(total, 1));
    await waitFor(() => consumer.messages().length >= total + 1, 30000, 'the last message');
    checkMessages(assert, consumer.messages(), total + 1);
  } finally {
    await consumer.kill();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a zulip-js consumer loses nothing when the server is stopped (SIGTERM) and started again', () => restartRun('SIGTERM'));
test('a zulip-js consumer loses nothing when the server is killed (SIGKILL) and started again', () => restartRun('SIGKILL'));
