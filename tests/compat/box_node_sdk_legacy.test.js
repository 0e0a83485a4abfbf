// The legacy box-node-sdk (3.x, installed as box-node-sdk-legacy) against eventfeed. Its HTTP
// layer uses one agent class for every call, https.Agent by default: a test against a plain
// http:// server must configure `request.agentClass = http.Agent` (a client setting, see
// docs/api/box.md).
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const { test, after, before } = require('node:test');
const BoxSDK = require('box-node-sdk-legacy');
const h = require('./harness.js');

const user = { id: '21', name: 'Lea Legacy', login: 'lea@example.com', token: 'tok-lea', stream: 'box:user:21' };
let server;

before(async () => {
  server = await h.startServer(h.boxConfig([user]));
});
after(async () => {
  if (server) await server.stop();
});

function client() {
  const sdk = new BoxSDK({
    clientID: 'eventfeed-compat',
    clientSecret: 'unused',
    apiRootURL: server.url,
    uploadAPIRootURL: `${server.url}/api`,
    request: { agentClass: http.Agent },
  });
  return sdk.getBasicClient(user.token);
}

test('box-node-sdk 3: the realtime server entry', async () => {
  const info = await client().events.getLongPollInfo();
  assert.strictEqual(info.type, 'realtime_server');
  assert.ok(info.url.startsWith(`${server.url}/2.0/realtime?channel=`), info.url);
  assert.strictEqual(info.ttl, '10');
  assert.strictEqual(info.max_retries, '10');
  assert.strictEqual(info.retry_timeout, 610);
});

test('box-node-sdk 3: getEventStream delivers 500 published events once each, in order', { timeout: 120000 }, async () => {
  const total = 500;
  const { seen, errors } = await h.followRun(server, user, await client().events.getEventStream(), total);
  assert.deepStrictEqual(errors, [], 'the stream reported no error');
  h.checkRun(assert, seen, total, (e) => Number(e.source.id) - 100000, (e) => e.event_type);
  const first = seen[0];
  assert.strictEqual(first.type, 'event');
  assert.deepStrictEqual(first.created_by, { type: 'user', id: user.id, name: user.name, login: user.login });
  assert.strictEqual(first.session_id, 'session-0');
  assert.match(first.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
});
