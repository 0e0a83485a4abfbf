// tests/compat/box_generated_sdk.js: the test both generated SDKs share (box-node-sdk 10 and
// box-typescript-sdk-gen: the same generated code under two package names), against a real
// eventfeed process.
'use strict';

const assert = require('node:assert/strict');
const { test, after, before } = require('node:test');
const h = require('./harness.js');

function defineTests(sdkName, sdk) {
  const { BoxClient, BoxDeveloperTokenAuth } = sdk;
  const user = { id: '11', name: 'Ann Example', login: 'ann@example.com', token: 'tok-ann', stream: 'box:user:11' };
  const other = { id: '12', name: 'Bob', login: 'bob@example.com', token: 'tok-bob', stream: 'box:user:12' };
  let server;

  before(async () => {
    server = await h.startServer(h.boxConfig([user, other]));
  });
  after(async () => {
    if (server) await server.stop();
  });

  const client = (token) => new BoxClient({ auth: new BoxDeveloperTokenAuth({ token }) })
    .withCustomBaseUrls({ baseUrl: server.url, uploadUrl: `${server.url}/api`, oauth2Url: `${server.url}/api/oauth2` });

  test(`${sdkName}: getEventsWithLongPolling returns the realtime server as the SDK types it`, async () => {
    const info = await client(user.token).events.getEventsWithLongPolling();
    assert.strictEqual(info.chunkSize, 1);
    assert.strictEqual(info.entries.length, 1);
    const entry = info.entries[0];
    assert.strictEqual(entry.type, 'realtime_server');
    assert.strictEqual(typeof entry.url, 'string');
    assert.ok(entry.url.startsWith(`${server.url}/2.0/realtime?channel=`), entry.url);
    assert.ok(entry.url.endsWith('&stream_type=all'), entry.url);
    assert.strictEqual(entry.ttl, '10');
    assert.strictEqual(entry.maxRetries, '10');
    assert.strictEqual(entry.retryTimeout, 610);
  });

  test(`${sdkName}: getEventStream delivers 500 published events once each, in order`, { timeout: 120000 }, async () => {
    const total = 500;
    // Another user's events, published in between, must not reach this stream.
    const { seen, errors } = await h.followRun(server, user, client(user.token).events.getEventStream(), total, other);
    assert.deepStrictEqual(errors, [], 'the stream reported no error');
    h.checkRun(assert, seen, total, (e) => Number(e.source.id) - 100000, (e) => e.eventType);
    const first = seen[0];
    assert.strictEqual(first.type, 'event');
    assert.strictEqual(first.createdBy.id, user.id);
    assert.strictEqual(first.createdBy.login, user.login);
    assert.strictEqual(first.source.type, 'file');
    assert.strictEqual(first.sessionId, 'session-0');
    assert.ok(first.createdAt, 'created_at parsed');
    assert.ok(first.recordedAt, 'recorded_at parsed');
  });
}

module.exports = { defineTests };
