import type { ChildSpec, RestartType, Shutdown, SupervisorFlags } from './spec.ts';
import { compileFlags } from './spec.ts';
import { Supervisor } from './supervisor.ts';

export interface SupervisorChildOptions {
  id: string;
  kind?: string;
  flags?: Parameters<typeof compileFlags>[0];
  children?: ChildSpec[];
  restart?: RestartType;
  shutdown?: Shutdown;
  significant?: boolean;
  /** Called with each new incarnation, so its owner can reach the live supervisor (dynamic children). */
  onStart?: (s: Supervisor) => void;
  /** Called when an incarnation has ended, however it ended (to release what its children shared). */
  onExit?: () => void;
}

/** A child spec whose incarnations are supervisors (a subtree). */
export function supervisorChild(o: SupervisorChildOptions): ChildSpec {
  const flags: SupervisorFlags = compileFlags(o.flags);
  return {
    id: o.id,
    kind: o.kind ?? 'supervisor',
    mode: 'supervisor',
    restart: o.restart ?? 'permanent',
    shutdown: o.shutdown ?? 'infinity',
    significant: o.significant,
    start: async ({ path, env }) => {
      const s = new Supervisor(path, flags, o.children ?? [], env);
      await s.start();
      o.onStart?.(s);
      if (o.onExit) void s.exited.then(o.onExit, o.onExit);
      return s;
    },
  };
}
