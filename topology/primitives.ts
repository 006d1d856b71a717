import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/** Schemas for the small value types the topology file uses, each with a message an operator understands. */

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

export const instanceName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, {
    error: (i) => `must be Latin letters and digits starting with a letter (got ${show(i.input)})`,
  })
  .max(64);

/** Names of sites, servers, clusters and keys: a little wider than instance names. */
export const entityName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    error: (i) =>
      `must start with a letter or digit and use only letters, digits, '_', '.', '-' (got ${show(i.input)})`,
  })
  .max(128);

export const port = z
  .int({ error: (i) => `must be a whole port number 1-65535 (got ${show(i.input)})` })
  .min(1, {
    error: (i) => `must be a port number 1-65535 (got ${show(i.input)})`,
  })
  .max(65535, { error: (i) => `must be a port number 1-65535 (got ${show(i.input)})` });

export const absolutePath = z.string().refine((v) => v.startsWith('/') && !v.includes('\0'), {
  error: (i) => `must be an absolute path (got ${show(i.input)})`,
});

export function isIpAddress(v: string): boolean {
  return isIP(v) !== 0;
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHost(v: string): boolean {
  return isIpAddress(v) || HOSTNAME.test(v);
}

export const ipAddress = z
  .string()
  .refine(isIpAddress, { error: (i) => `must be an IPv4 or IPv6 address (got ${show(i.input)})` });

const UNSPECIFIED = new BlockList();
UNSPECIFIED.addAddress('0.0.0.0', 'ipv4');
UNSPECIFIED.addAddress('::', 'ipv6');

/**
 * Whether `v` is the unspecified address in any spelling: `0.0.0.0`, `::`, `::0`, `0:0:0:0:0:0:0:0`, the IPv4-mapped
 * `::ffff:0.0.0.0`. A BlockList compares parsed addresses, so no spelling slips past a string comparison.
 */
export function isUnspecifiedAddress(v: string): boolean {
  const family = isIP(v);
  return family !== 0 && UNSPECIFIED.check(v, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An address a listener binds to (`servers[].ifaces`): the API and node-to-node listeners bind to the role's
 * internal address only (01-topology.md), and a socket bound to the unspecified address listens on every
 * interface, the public ones included.
 */
export const interfaceAddress = ipAddress.refine((v) => !isUnspecifiedAddress(v), {
  error: (i) =>
    `${show(i.input)} (the unspecified address) would listen on every interface; give the role's internal address`,
});

export const host = z
  .string()
  .refine(isHost, { error: (i) => `must be a host name or IP address (got ${show(i.input)})` });

/** `host` or `host:port` (IPv6 in brackets: `[::1]:5432`). */
export function parseHostPort(v: string): { host: string; port?: number } | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    const [, h, p] = bracket;
    if (h === undefined || isIP(h) !== 6) return undefined;
    return p === undefined ? { host: h } : withPort(h, p);
  }
  if (isIP(v) === 6) return { host: v };
  const idx = v.lastIndexOf(':');
  if (idx < 0) return isHost(v) ? { host: v } : undefined;
  const h = v.slice(0, idx);
  return isHost(h) ? withPort(h, v.slice(idx + 1)) : undefined;
}

function withPort(h: string, p: string): { host: string; port: number } | undefined {
  const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
  return n >= 1 && n <= 65535 ? { host: h, port: n } : undefined;
}

export const hostOrHostPort = z.string().refine((v) => parseHostPort(v) !== undefined, {
  error: (i) => `must be "host" or "host:port" (got ${show(i.input)})`,
});

/** Domain names are lower-case DNS names; a child's name ends with its parent's. */
export const domainName = z
  .string()
  .refine((v) => HOSTNAME.test(v) && v === v.toLowerCase() && v.includes('.'), {
    error: (i) => `must be a lower-case domain name with at least two labels (got ${show(i.input)})`,
  });

const outOf = (range: string) => (i: { input: unknown }) => `${range} (got ${show(i.input)})`;

export const hour = z
  .int()
  .min(0, { error: outOf('hours are 0-23') })
  .max(23, { error: outOf('hours are 0-23') });
export const weekday = z
  .int()
  .min(1, { error: outOf('weekdays are 1-7, 1 = Monday') })
  .max(7, { error: outOf('weekdays are 1-7, 1 = Monday') });

/** Free-form options: a JSON object or list, passed through to services unchecked. */
export const ext = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {
  error: 'must be a JSON object or list',
});
