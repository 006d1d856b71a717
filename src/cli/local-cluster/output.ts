import { createRequire } from 'node:module';

/**
 * The local cluster's terminal: every line of every process with its name in front (`[mware1] …`), mware's JSON
 * log lines made human-readable on one line each (pino-pretty, the node's own pretty printer), colours on a TTY.
 */

type Prettify = (line: string) => string;

const COLOURS = [36, 35, 33, 32, 34, 96, 95, 93];

export class Output {
  private readonly width: number;
  private readonly prettify: Prettify;
  private readonly colours = new Map<string, number>();

  constructor(
    names: readonly string[],
    private readonly o: { tty: boolean; write: (text: string) => void },
  ) {
    this.width = Math.max(...names.map((n) => n.length + 2));
    const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as {
      prettyFactory: (o: object) => Prettify;
    };
    this.prettify = prettyFactory({
      colorize: o.tty,
      singleLine: true,
      errorLikeObjectKeys: [],
      translateTime: 'SYS:HH:MM:ss.l',
      // The prefix names the node; its group is in the file.
      ignore: 'pid,hostname,node,group',
    });
    names.forEach((n, i) => this.colours.set(n, COLOURS[i % COLOURS.length] as number));
  }

  /** A line from `name`: a JSON log line is prettified, anything else is shown as it is. */
  line(name: string, text: string): void {
    const shown = text.startsWith('{') ? this.pretty(text) : text;
    this.o.write(`${this.prefix(name)} ${shown}\n`);
  }

  private pretty(text: string): string {
    try {
      return this.prettify(text).trimEnd();
    } catch {
      return text;
    }
  }

  private prefix(name: string): string {
    const p = `[${name}]`.padEnd(this.width);
    const c = this.colours.get(name);
    return this.o.tty && c !== undefined ? `\u001b[${c}m${p}\u001b[39m` : p;
  }
}
