// Run by file-store.test.ts: closes the store while a batch is being written and saves keep coming, then prints
// "closed". A close that spins on the event loop never prints, and the test kills this process. argv: directory.
import { FileStateStore } from '../../src/state/file-store.ts';

const store = await FileStateStore.open({ dir: process.argv[2] as string });
const saves: Promise<void>[] = [];
for (let i = 0; i < 200; i++) saves.push(store.save(`k${i % 7}`, i, 1));
await new Promise((r) => setImmediate(r)); // a batch is on its way to the disk
for (let i = 0; i < 200; i++) saves.push(store.save(`k${i % 7}`, i, 1));
await store.close();
await Promise.allSettled(saves);
process.stdout.write('closed\n');
