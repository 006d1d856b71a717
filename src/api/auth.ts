import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenScope } from '../../topology/schema.ts';
import { Forbidden, Unauthorized } from './errors.ts';

/**
 * Bearer tokens and their scopes (`security.api_tokens`). Tokens are compared by their SHA-256 digests with
 * timingSafeEqual, against every configured token, so the time taken says nothing about how close a guess was.
 * `admin` includes every other scope; `read` (the tree, the cluster, events, health, metrics) takes any valid token.
 */

export type Scope = TokenScope | 'read';

export interface Principal {
  name: string;
  scopes: ReadonlySet<TokenScope>;
}

interface Entry {
  digest: Buffer;
  principal: Principal;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Verified tokens remembered, so a client's every request does not hash again. Only valid tokens enter. */
const REMEMBERED = 1024;

export class Authenticator {
  private readonly entries: Entry[];
  private readonly verified = new Map<string, Principal>();

  constructor(tokens: readonly { name: string; token: string; scopes: readonly TokenScope[] }[]) {
    this.entries = tokens.map((t) => ({
      digest: digest(t.token),
      principal: { name: t.name, scopes: new Set(t.scopes) },
    }));
  }

  /** The principal of an `Authorization: Bearer …` header; Unauthorized when missing or wrong. */
  authenticate(header: string | undefined): Principal {
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1]) throw new Unauthorized('a bearer token is required (Authorization: Bearer <token>)');
    const known = this.verified.get(m[1]);
    if (known) return known;
    const presented = digest(m[1]);
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, presented) && !found) found = e.principal;
    if (!found) throw new Unauthorized('the bearer token is not valid');
    if (this.verified.size >= REMEMBERED) this.verified.clear();
    this.verified.set(m[1], found);
    return found;
  }

  static authorize(p: Principal, scope: Scope): void {
    if (scope === 'read' || p.scopes.has('admin') || p.scopes.has(scope)) return;
    throw new Forbidden(`the token "${p.name}" lacks the "${scope}" scope`);
  }
}
