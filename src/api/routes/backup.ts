import type { BackupStatus } from '../../../actors/backup/protocol.ts';
import type { ApiContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { askActor } from '../dispatch.ts';
import { BackupNotConfigured } from '../errors.ts';
import type { Route } from '../route.ts';
import { errors } from '../route.ts';
import { BackupRunReportSchema, BackupStatusSchema } from '../controller-schemas.ts';

/**
 * The backup controller's facade (04-postgres.md "backup_controller"): its schedule, last run and next attempt, and
 * a run now. `/backup` runs on the group's active instance; a passive node forwards (askActor).
 */

/** A run-now answers when the run has ended: a large database takes minutes (the forwarding bound is 300 s). */
const RUN_NOW_MS = 300_000;

export type BackupView = BackupStatus & { age_seconds: number | null };

function requireBackup(ctx: ApiContext): void {
  if (!ctx.controllers.backup)
    throw new BackupNotConfigured(`the role of ${ctx.nodeName} has no backup_controller`);
}

/** The status, with the age of the last good backup (what an alert watches). */
export async function backupView(
  ctx: ApiContext,
  principal: Principal | null,
  now: number = Date.now(),
): Promise<BackupView> {
  requireBackup(ctx);
  const s = (await askActor(ctx, principal, '/backup', 'status', null, 5_000)) as BackupStatus;
  return {
    ...s,
    age_seconds: s.last_success_at === null ? null : Math.max(0, (now - s.last_success_at) / 1000),
  };
}

export const backupRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/backup',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/backup',
        summary: 'The backup controller: phase, schedule, next attempt, last run step by step, last success',
        responses: {
          '200': { description: 'Its status', schema: BackupStatusSchema },
          ...errors(401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => backupView(ctx, req.principal),
  },
  {
    method: 'POST',
    url: '/api/v1/backup/run-now',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/backup/run-now',
        summary:
          'Runs a backup now and answers when it has ended (a failed run is a 200 with ok: false); ' +
          '409 MW_ERR_BACKUP_RUNNING while a run is under way',
        responses: {
          '200': { description: 'The run’s report', schema: BackupRunReportSchema },
          ...errors(401, 403, 404, 409, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      requireBackup(ctx);
      return await askActor(ctx, req.principal, '/backup', 'run-now', null, RUN_NOW_MS);
    },
  },
];
