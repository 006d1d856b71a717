// The baseline for the API benchmark: a bare fastify route doing nothing but answer JSON, in its own process,
// on 127.0.0.1 and the port given. It prints "listening" when ready.
import { fastify } from 'fastify';

const app = fastify({ logger: false });
app.post('/ping', async () => ({ result: 'pong' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
console.log('listening');
