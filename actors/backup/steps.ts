import type { BackupStepName, BackupStepReport } from './protocol.ts';
import { BackupStepFailed } from './errors.ts';

/** What a step returns when it succeeds: bytes it produced or moved, and where its result went. */
export interface StepResult {
  bytes?: number;
  detail?: string;
}

/**
 * Runs the steps of one backup run in order and reports each (duration, size, outcome). The first failing step
 * ends the run: {@link StepRecorder.run} throws a {@link BackupStepFailed} naming it, its message scrubbed.
 */
export class StepRecorder {
  readonly steps: BackupStepReport[] = [];

  constructor(
    private readonly now: () => number,
    private readonly scrub: (s: string) => string,
    private readonly aborted: () => boolean,
  ) {}

  async run(step: BackupStepName, target: string, fn: () => Promise<StepResult>): Promise<StepResult> {
    if (this.aborted()) throw new BackupStepFailed(`${step} ${target}: the controller is stopping`);
    const t0 = this.now();
    try {
      const r = await fn();
      this.steps.push({ step, target, ok: true, ms: Math.round(this.now() - t0), ...r });
      return r;
    } catch (err) {
      const message = this.scrub(err instanceof Error ? err.message : String(err));
      this.steps.push({ step, target, ok: false, ms: Math.round(this.now() - t0), detail: message });
      throw new BackupStepFailed(`${step} ${target}: ${message}`, {
        details: {
          step,
          target,
          ...(typeof (err as { code?: unknown }).code === 'string' && {
            code: (err as { code: string }).code,
          }),
        },
      });
    }
  }
}
