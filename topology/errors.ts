import { errorKind, registerErrorClass } from '../src/errors.ts';
import type { MwareErrorOptions } from '../src/errors.ts';
import type { Problem } from './problems.ts';
import { formatProblem } from './problems.ts';

/** The topology file is invalid; `problems` lists every problem with its path. */
export class TopologyInvalid extends errorKind('MW_ERR_TOPOLOGY_INVALID') {
  readonly problems: Problem[];

  constructor(message: string, options: MwareErrorOptions & { problems?: Problem[] } = {}) {
    super(message, options);
    this.problems = options.problems ?? [];
  }

  static of(file: string, problems: Problem[]): TopologyInvalid {
    const lines = problems.map((p) => `  ${formatProblem(p)}`).join('\n');
    return new TopologyInvalid(`${file}: ${problems.length} problem(s)\n${lines}`, { problems });
  }
}
registerErrorClass(TopologyInvalid);

/** The role named on the command line is not an enabled mware instance of the file. */
export class RoleNotFound extends errorKind('MW_ERR_ROLE_NOT_FOUND') {}
registerErrorClass(RoleNotFound);
