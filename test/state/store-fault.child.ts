// Run by file-store.test.ts in a process whose file size limit is a few KiB (ulimit -f, SIGXFSZ ignored): a real
// write that fails part-way, as on a full disk. Prints one JSON line of what it saw. argv: the state directory.
import { FileStateStore } from '../../src/state/file-store.ts';

const dir = process.argv[2] as string;
const seen: Record<string, unknown> = {};
const store = await FileStateStore.open({ dir });
await store.save('grant', { holder: 'a' }, 1);
try {
  // Far beyond the limit: part of it reaches the journal, the rest fails.
  await store.save('grant', { holder: 'b', pad: 'x'.repeat(64 * 1024) }, 1);
  seen.big = 'acknowledged';
} catch (err) {
  seen.big = (err as { code?: string }).code;
}
seen.afterFailure = (await store.load('grant'))?.value;
await store.save('next', { n: 1 }, 1);
seen.next = 'acknowledged';
await store.close();
try {
  const again = await FileStateStore.open({ dir });
  seen.reopened = { grant: (await again.load('grant'))?.value, next: (await again.load('next'))?.value };
  await again.close();
} catch (err) {
  seen.reopened = (err as Error).message;
}
process.stdout.write(JSON.stringify(seen) + '\n');
