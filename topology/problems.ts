/**
 * A validation problem: where in the file, and a plain sentence saying what is wrong.
 * `path` is in the form `roles[2].pg_controller[0].servers[1].pg_port` (empty for the whole file).
 */
export interface Problem {
  path: string;
  message: string;
  /** The path as segments, for finding the line in the source. */
  segments?: PathSegment[];
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** Formats path segments the way operators read them: `roles[2].api.port`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line per problem, as `mware validate` prints them. */
export function formatProblem(p: Problem): string {
  const where = p.path === '' ? '(file)' : p.path;
  const pos = p.line !== undefined ? ` (line ${p.line}, column ${p.column ?? 1})` : '';
  return `${where}${pos}: ${p.message}`;
}

/** Collects problems; rules push into it instead of throwing, so every problem is reported. */
export class ProblemList {
  readonly items: Problem[] = [];

  add(path: readonly PathSegment[] | string, message: string): void {
    const segments = typeof path === 'string' ? (path === '' ? [] : [path]) : [...path];
    this.items.push({ path: formatPath(segments), message, segments });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }
}
