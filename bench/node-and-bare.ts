// For the API benchmark: a mware node and, in the same process, a bare fastify route on another port — "a bare
// fastify route on the same node", sharing its heap, event loop and GC. Prints "ready" when both listen.
import { fastify } from 'fastify';
import { createLogger } from '../src/log/log.ts';
import { MwareNode } from '../src/node/node.ts';

const [topologyFile, dataDir, barePort] = process.argv.slice(2);
const node = await MwareNode.start({
  topologyFile: topologyFile ?? '',
  dataDir,
  log: createLogger({ level: 'warn' }),
});
const bare = fastify({ logger: false });
bare.post('/ping', async () => ({ result: 'pong' }));
await bare.listen({ host: '127.0.0.1', port: Number(barePort) });
console.log('ready');
process.on('SIGTERM', () => {
  void bare
    .close()
    .then(() => node.stop())
    .then(() => process.exit(0));
});
