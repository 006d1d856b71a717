'use strict';
// Preloaded (--require) into the spare process kept ready for comedy's next forked actor: leave with the node
// (a spare has no parent ping of its own yet), and load TypeScript support and our host before they are needed.
process.once('disconnect', () => process.exit(0));
require('./host-boot.cjs');
