import type { AcmeAttemptResult, AcmeCertStatus, AcmeStatus } from '../../actors/acme/protocol.ts';
import { BadRequest } from '../api/errors.ts';
import type { MwareClient } from '../client/client.ts';
import { registerShellCommand } from './command.ts';
import { duration, table, wallTime } from './controller-commands.ts';
import type { Style } from './style.ts';

/**
 * The shell's `certs` (06-services.md "ACME"): each certificate's names, end, next renewal and last error, from
 * `GET /api/v1/acme/certs`; `certs renew NAME` and `certs revoke NAME [REASON]` for an operator.
 */

const REASONS = ['superseded', 'keyCompromise', 'unspecified'];

const phaseStyle = (phase: AcmeCertStatus['phase'], s: Style): string =>
  phase === 'valid'
    ? s.green(phase)
    : phase === 'expired' || phase === 'failing' || phase === 'missing'
      ? s.red(phase)
      : s.yellow(phase);

function when(ms: number | null, now: number): string {
  if (ms === null) return '-';
  const d = ms - now;
  return `${wallTime(ms)} (${d >= 0 ? `in ${duration(d)}` : `${duration(-d)} ago`})`;
}

export function renderCerts(st: AcmeStatus, s: Style, now: number = Date.now()): string[] {
  const ari = st.ari === null ? '' : st.ari ? '  ARI offered' : '  no ARI';
  const lines = [`acme  ${st.directory_url}${st.http01 ? `  http-01 at ${st.http01}` : ''}${ari}`];
  const rows = [['  NAME', 'PHASE', 'NOT AFTER', 'NEXT RENEWAL', 'LAST ERROR']];
  for (const c of st.certs) {
    const next = c.failures > 0 ? c.next_attempt_at : (c.renew_at ?? now);
    const err = c.last_error ? `${c.last_error.code}: ${c.last_error.message} (${c.failures}×)` : '';
    rows.push([
      `  ${c.name}${c.names.length > 1 ? ` +${c.names.length - 1}` : ''}`,
      phaseStyle(c.phase, s) + (c.running ? ' …' : ''),
      when(c.not_after, now),
      when(next, now) + (c.renew_by === 'ari' ? ' ARI' : ''),
      err,
    ]);
  }
  lines.push(...table(rows));
  return lines;
}

function attemptLine(r: AcmeAttemptResult, s: Style): string {
  const c = r.cert;
  if (!r.ok) return s.red(`${c.name}: failed: ${r.error?.code ?? '?'}: ${r.error?.message ?? ''}`);
  const revoked = r.revoked_serial ? `; serial ${r.revoked_serial} revoked` : '';
  return `${s.green(c.name)}: serial ${c.serial ?? '-'} until ${c.not_after === null ? '-' : wallTime(c.not_after)}${revoked}`;
}

async function names(client: MwareClient): Promise<string[]> {
  return (await client.request<AcmeStatus>('GET', '/api/v1/acme/certs')).certs.map((c) => c.name);
}

export function registerAcmeCommands(): void {
  registerShellCommand({
    name: 'certs',
    usage: 'certs [renew NAME | revoke NAME [superseded|keyCompromise|unspecified]]',
    summary: 'ACME certificates: names, not-after, next renewal, last error; renew now; revoke and replace',
    complete: async (argv, position, client) => {
      if (position === 0) return ['renew', 'revoke'];
      if (position === 1 && (argv[0] === 'renew' || argv[0] === 'revoke')) return names(client);
      if (position === 2 && argv[0] === 'revoke') return REASONS;
      return [];
    },
    run: async ([sub, name, reason, ...extra], _rest, ctx) => {
      if (sub === undefined) {
        const st = await ctx.client.request<AcmeStatus>('GET', '/api/v1/acme/certs', undefined, {
          signal: ctx.signal,
        });
        for (const l of renderCerts(st, ctx.style)) ctx.out(l);
        return;
      }
      if ((sub === 'renew' || sub === 'revoke') && name !== undefined && extra.length === 0) {
        if (sub === 'renew' && reason !== undefined) throw new BadRequest('usage: certs renew NAME');
        if (reason !== undefined && !REASONS.includes(reason))
          throw new BadRequest(`the reason is one of ${REASONS.join(', ')} (got "${reason}")`);
        ctx.out(ctx.style.dim(`${sub === 'renew' ? 'renewing' : 'replacing, then revoking'} ${name}…`));
        const r = await ctx.client.request<AcmeAttemptResult>(
          'POST',
          `/api/v1/acme/certs/${encodeURIComponent(name)}/${sub}`,
          sub === 'revoke' ? (reason === undefined ? {} : { reason }) : undefined,
          { signal: ctx.signal, timeoutMs: 180_000 },
        );
        ctx.out(attemptLine(r, ctx.style));
        return;
      }
      throw new BadRequest('usage: certs [renew NAME | revoke NAME [REASON]]');
    },
  });
}
