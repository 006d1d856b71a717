import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Probe } from '../../topology/schema.ts';
import { ProbeFailed, ProbeMismatch, ProbeTimeout } from './errors.ts';
import { valueAt } from './json-path.ts';
import type { ProbeRead } from './probe.ts';
import { safeUrl } from './probe.ts';

/** A JSON status page is small; a body larger than this is not one. */
const MAX_BODY = 1 << 20;

/**
 * An HTTP GET of a JSON status: a 2xx answer whose body parses, and the value at `json_path` (the whole body
 * without one). Any other status fails the probe: a passive mware node's `/active` answers 503.
 */
export function httpJsonProbe(p: Extract<Probe, { type: 'http-json' }>): ProbeRead {
  const shown = safeUrl(p.url);
  return () =>
    new Promise((resolve, reject) => {
      const url = new URL(p.url);
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method: 'GET',
          headers: { accept: 'application/json' },
          // tls_verify: false is for status pages served with a certificate the topology gives no CA for.
          ...(url.protocol === 'https:' && { rejectUnauthorized: p.tls_verify }),
        },
        (res) => void readJson(res, shown).then(resolve, reject),
      );
      req.setTimeout(p.timeout_ms, () =>
        req.destroy(new ProbeTimeout(`${shown}: no answer within ${p.timeout_ms} ms`)),
      );
      req.once('error', (err: NodeJS.ErrnoException) =>
        reject(err instanceof ProbeTimeout ? err : new ProbeFailed(`${shown}: ${err.code ?? err.message}`)),
      );
      req.end();
    }).then((body) => {
      if (p.json_path === undefined) return body;
      const v = valueAt(body, p.json_path);
      if (v === undefined) throw new ProbeMismatch(`${shown}: nothing at ${p.json_path}`);
      return v;
    });
}

async function readJson(res: IncomingMessage, shown: string): Promise<unknown> {
  const status = res.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.destroy();
      throw new ProbeFailed(`${shown}: body larger than ${MAX_BODY} bytes`);
    }
    chunks.push(chunk);
  }
  if (status < 200 || status > 299) throw new ProbeFailed(`${shown}: HTTP ${status}`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ProbeFailed(`${shown}: the body is not JSON`);
  }
}
