import { lstatSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ChildOutput } from '../../src/child-output.ts';
import { runChild } from './child.ts';

/**
 * `send_mode: zip`: the sync folder packed into one zip archive. Which files go in is asked of rsync itself (a
 * dry run with the very `--exclude` patterns and source the rsync mode uses, `-a` included), so both modes leave
 * out exactly the same files whatever the pattern (`*`, `**`, anchored `/…`, `dir/`); zip then reads that list
 * on its stdin (`-@`), paths taken literally (`-nw`), symlinks stored as links (`-y`), and a listed file it cannot
 * read (gone meanwhile, say) fails it (`-MM`), as rsync's vanished files fail the rsync mode, rather than being
 * left out of the backup unnoticed. Entries are relative to the folder, so `unzip SYNC.zip -d :SYNC` restores it.
 *
 * zip stores files, folders and symlinks: FIFOs, sockets and devices, which rsync would copy, are left out of the
 * list (`--no-specials --no-devices`; zip would skip a FIFO, fail on a socket, and read a device's content). File
 * names go byte for byte (latin1 both ways: a name need not be UTF-8); rsync's `\#ooo` escapes are decoded. zip
 * reads its list one name a line and drops a carriage return: a name holding either fails the run, named.
 */

/** An archive with no entry (its end-of-central-directory record alone): zip refuses to write one. */
const EMPTY_ZIP = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)]);

export interface ZipFolderOptions {
  source: string;
  excluded: readonly string[];
  /** The archive to write (absent). */
  archive: string;
  /** A folder of the run's, absent from which rsync's dry run "copies" (nothing is written there). */
  scratch: string;
  /** The listing and zip each. */
  timeoutMs: number;
  output?: (source: string) => ChildOutput;
  /** Kills the listing or zip under way (the controller is stopping). */
  signal?: AbortSignal;
}

/** Writes the archive; resolves with the number of entries (files, links and folders) in it. */
export async function zipFolder(o: ZipFolderOptions): Promise<number> {
  const src = o.source.replace(/\/+$/, '');
  // rsync would list a file (or a link to a folder) as itself, with nothing under it: an empty archive.
  const st = lstatSync(src, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new Error(`${src} is not a folder`);
  const names = await listKept(src, o);
  const bad = names.find((n) => /[\r\n]/.test(n));
  if (bad !== undefined)
    throw new Error(
      `cannot zip ${JSON.stringify(Buffer.from(bad, 'latin1').toString())}: zip takes no line break in a name`,
    );
  if (names.length === 0) {
    writeFileSync(o.archive, EMPTY_ZIP);
    return 0;
  }
  await runChild({
    program: 'zip',
    args: ['-q', '-y', '-nw', '-MM', '-@', o.archive],
    cwd: src,
    stdin: Buffer.from(`${names.join('\n')}\n`, 'latin1'),
    timeoutMs: o.timeoutMs,
    ...(o.signal && { signal: o.signal }),
    ...(o.output && { output: o.output('zip') }),
  });
  return names.length;
}

/**
 * The paths under `src` (relative, folders with a trailing `/`) that rsync would copy with these exclusions, as
 * latin1 strings (one character a byte).
 */
async function listKept(src: string, o: ZipFolderOptions): Promise<string[]> {
  const args = ['-a', '--no-specials', '--no-devices', '-8', '--dry-run', '--out-format=%n'];
  for (const p of o.excluded) args.push(`--exclude=${p}`);
  // As in the rsync mode: the folder itself is the transfer's top (no trailing slash), so an anchored pattern
  // means the same in both; its name is stripped from each listed path.
  args.push(src, `${join(o.scratch, 'none')}/`);
  const prefix = `${Buffer.from(basename(src)).toString('latin1')}/`;
  const names: string[] = [];
  await runChild({
    program: 'rsync',
    args,
    cwd: dirname(src),
    timeoutMs: o.timeoutMs,
    ...(o.signal && { signal: o.signal }),
    ...(o.output && { output: o.output('rsync') }),
    stdoutEncoding: 'latin1',
    onStdoutLine: (l) => {
      if (l.startsWith(prefix) && l.length > prefix.length) names.push(unescapeRsync(l.slice(prefix.length)));
    },
  });
  return names;
}

/**
 * rsync prints a byte it will not show (a control character, a newline) as `\#ooo` (octal), and a backslash that
 * would read as such an escape as `\#134`: every `\#ooo` is an escape.
 */
function unescapeRsync(s: string): string {
  return s.replace(/\\#([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
