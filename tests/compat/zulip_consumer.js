// tests/compat/zulip_consumer.js: a zulip-js bot, run as its own process by the Zulip compat
// tests, because callOnEachEvent loops forever and has no way to stop but ending the process.
//   node zulip_consumer.js <package> <realm> <email> <api key> <event types as JSON, or null>
// Prints `EVENT <json>` for each event handed to its callback (heartbeats included), one line
// each, in the order it got them. zulip-js logs its own errors to stdout too, on other lines.
'use strict';

const [pkg, realm, username, apiKey, types] = process.argv.slice(2);
const zulip = require(pkg);

(async () => {
  const client = await zulip({ username, apiKey, realm });
  client.callOnEachEvent((event) => {
    process.stdout.write(`EVENT ${JSON.stringify(event)}\n`);
  }, JSON.parse(types));
})().catch((e) => {
  process.stderr.write(`zulip_consumer: ${e.stack}\n`);
  process.exit(1);
});
