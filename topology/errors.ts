import { MwareError, registerErrorClass } from '../src/errors.ts';
import type { MwareErrorOptions } from '../src/errors.ts';
import type { Problem } from './problems.ts';
import { formatProblem } from './problems.ts';

/** The topology file is invalid; `problems` lists every problem with its path. */
export class TopologyInvalid extends MwareError {
  readonly problems: Problem[];

  constructor(message: string, options: MwareErrorOptions & { problems?: Problem[] } = {}) {
    super('MW_ERR_TOPOLOGY_INVALID', message, options);
    this.problems = options.problems ?? [];
  }

  static of(file: string, problems: Problem[]): TopologyInvalid {
    const lines = problems.map((p) => `  ${formatProblem(p)}`).join('\n');
    return new TopologyInvalid(`${file}: ${problems.length} problem(s)\n${lines}`, { problems });
  }
}
registerErrorClass(TopologyInvalid, 'MW_ERR_TOPOLOGY_INVALID');

/** The role named on the command line is not an enabled mware instance of the file. */
export class RoleNotFound extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ROLE_NOT_FOUND', message, options);
  }
}
registerErrorClass(RoleNotFound, 'MW_ERR_ROLE_NOT_FOUND');
