// box-typescript-sdk-gen against eventfeed.
'use strict';
require('./box_generated_sdk.js').defineTests('box-typescript-sdk-gen', require('box-typescript-sdk-gen'));
