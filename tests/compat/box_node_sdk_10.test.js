// box-node-sdk 10 (the generated SDK under the official package name) against eventfeed.
'use strict';
require('./box_generated_sdk.js').defineTests('box-node-sdk 10', require('box-node-sdk'));
