'use strict';
// First module comedy loads in a forked process or worker thread it creates for one of our actors: teach
// require() TypeScript (comedy loads actor modules with require), then hand comedy our host class. Registering
// here, not through the parent's execArgv, is what makes worker threads work too: they do not inherit loaders
// registered at run time.
require('tsx/cjs/api').register();
module.exports = require('./comedy.ts').ComedyHost;
