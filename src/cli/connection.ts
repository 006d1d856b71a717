import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MwareClient } from '../client/client.ts';
import { errorKind, registerErrorClass } from '../errors.ts';

/** The command line cannot work out how to reach a node (no token found). */
export class UsageError extends errorKind('MW_ERR_USAGE') {}
registerErrorClass(UsageError);

export interface ConnectionOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  timeoutMs?: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:7070';

/**
 * Where the node is and the token to use: --url or MWARE_URL (default http://127.0.0.1:7070); --token,
 * MWARE_TOKEN, --token-file, or else the token a local embedded node wrote under ./data/<role>/api.token.
 */
export function connect(o: ConnectionOptions): MwareClient {
  const url = o.url ?? process.env.MWARE_URL ?? DEFAULT_URL;
  const token =
    o.token ?? process.env.MWARE_TOKEN ?? (o.tokenFile ? readToken(o.tokenFile) : discoverToken());
  return new MwareClient({
    url,
    token,
    timeoutMs: o.timeoutMs,
    // A call's first retry is shown, so waiting for a node that is not there is not silent.
    onRetry: (r) => {
      if (r.retry !== 1) return;
      process.stderr.write(
        `mware: ${r.url}: ${r.reason}; retrying for up to ${(r.leftMs / 1000).toFixed(1)} s more (--timeout MS to change)\n`,
      );
    },
  });
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(
      `cannot read the token file ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

function discoverToken(): string {
  let dirs: string[] = [];
  try {
    dirs = readdirSync('data', { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join('data', d.name, 'api.token'));
  } catch {
    // no ./data here
  }
  const found = dirs.filter((f) => {
    try {
      readFileSync(f);
      return true;
    } catch {
      return false;
    }
  });
  if (found.length === 1) return readToken(found[0] as string);
  if (found.length > 1)
    throw new UsageError(`several local tokens (${found.join(', ')}): choose with --token-file`);
  throw new UsageError(
    'no API token: give --token-file FILE, MWARE_TOKEN or --token (an embedded node writes data/<role>/api.token)',
  );
}
