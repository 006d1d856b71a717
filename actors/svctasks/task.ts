import { z } from 'zod';
import { domainName } from '../../topology/primitives.ts';
import type { SvcTasks } from '../../topology/schema.ts';

/**
 * A service task (06-services.md "Service tasks"), the platform's `svctask` entity with its fields, plus the domain
 * whose scheduler owns it. Parsed once where it enters (the tasks file, the API); everything inside is typed.
 */

/** A wall-clock instant: milliseconds since the epoch or an ISO 8601 string; kept as milliseconds. */
export const Instant = z.union([
  z.int().min(0),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'is not an ISO 8601 date-time' })
    .transform((s) => Date.parse(s)),
]);

export const SiteMode = z.enum(['all', 'any', 'sites_all', 'sites_any', 'first']);
export type SiteMode = z.infer<typeof SiteMode>;

export const ScheduleKind = z.enum(['always', 'work', 'nonwork', 'periods']);
export type ScheduleKind = z.infer<typeof ScheduleKind>;

/** A time window `[from, to)`. */
export const Period = z
  .strictObject({ from: Instant, to: Instant })
  .refine((p) => p.to > p.from, { error: 'a period ends after it starts (to > from)' });
export type Period = z.infer<typeof Period>;

export const TaskId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { error: 'letters, digits, ".", "_", "-"; at most 100' });

export const SvcTask = z
  .strictObject({
    id: TaskId,
    domain: domainName,
    name: z.string().max(200).default(''),
    isenabled: z.boolean().default(true),
    svcscriptcode: z.string().max(1_000_000),
    sitemode: SiteMode.default('any'),
    sites: z.array(z.string().min(1)).default([]),
    isregular: z.boolean().default(true),
    overlap: z.boolean().default(false),
    intervalsec: z
      .int()
      .min(1)
      .max(366 * 86_400)
      .default(60),
    dtstart: Instant.nullable().default(null),
    dtstop: Instant.nullable().default(null),
    schedule: ScheduleKind.default('always'),
    periods: z.array(Period).default([]),
  })
  .superRefine((t, c) => {
    if (
      (t.sitemode === 'sites_all' || t.sitemode === 'sites_any' || t.sitemode === 'first') &&
      !t.sites.length
    )
      c.addIssue({
        code: 'custom',
        path: ['sites'],
        message: `sitemode ${t.sitemode} needs at least one site`,
      });
    if (t.schedule === 'periods' && !t.periods.length)
      c.addIssue({
        code: 'custom',
        path: ['periods'],
        message: 'schedule "periods" needs at least one period',
      });
    if (!t.isregular && t.dtstart === null)
      c.addIssue({
        code: 'custom',
        path: ['dtstart'],
        message: 'a one-off task (isregular: false) needs dtstart',
      });
    if (t.dtstart !== null && t.dtstop !== null && t.dtstop <= t.dtstart)
      c.addIssue({ code: 'custom', path: ['dtstop'], message: 'dtstop is after dtstart' });
  });
export type SvcTask = z.infer<typeof SvcTask>;
/** A task as it arrives (dates may be ISO strings, defaults not yet applied). */
export type SvcTaskInput = z.input<typeof SvcTask>;

/** Work time for `schedule: work | nonwork` (the role's `svc_tasks.work_week`; fixed UTC offset, no DST). */
export type WorkWeek = SvcTasks['work_week'];

export const DEFAULT_WORK_WEEK: WorkWeek = { days: [1, 2, 3, 4, 5], hours: [9, 18], utc_offset_min: 0 };
