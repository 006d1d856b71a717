import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../state/durable.ts';

/**
 * With no `security.api_tokens` in the topology (the embedded default), the node makes one admin token and keeps
 * it in its data directory, readable by its owner only: `mware shell` finds it there. The token is never logged.
 */
export const TOKEN_FILE = 'api.token';

export function localAdminToken(dataDir: string): { token: string; file: string } {
  const file = join(dataDir, TOKEN_FILE);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { token: existing, file };
  } catch {
    // none yet
  }
  const token = randomBytes(32).toString('base64url');
  writeFileAtomicSync(file, `${token}\n`);
  return { token, file };
}
