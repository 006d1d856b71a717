/** Colour on a terminal, plain text when piped (or with NO_COLOR). */
export interface Style {
  readonly color: boolean;
  bold(s: string): string;
  dim(s: string): string;
  state(state: string, s?: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const wrap = (on: boolean, code: string) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

export function style(color: boolean): Style {
  const red = wrap(color, '31');
  const green = wrap(color, '32');
  const yellow = wrap(color, '33');
  const dim = wrap(color, '2');
  return {
    color,
    bold: wrap(color, '1'),
    dim,
    red,
    green,
    yellow,
    state: (state, s = state) =>
      state === 'running' || state === 'active'
        ? green(s)
        : state === 'failed'
          ? red(s)
          : state === 'starting' || state === 'restarting'
            ? yellow(s)
            : dim(s),
  };
}
