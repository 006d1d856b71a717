import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TaskFileInvalid } from './errors.ts';
import { SvcTask } from './task.ts';

/**
 * The tasks file (`svc_tasks.file`): a YAML or JSON list of tasks, each naming its domain. Read once when the group's
 * subtree starts; every problem is reported at once, with the entry's index and field, never the script code.
 */
export function readTaskFile(path: string): SvcTask[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TaskFileInvalid(`cannot read the tasks file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseTasks(raw, path);
}

export function parseTasks(raw: unknown, where: string): SvcTask[] {
  if (!Array.isArray(raw)) throw new TaskFileInvalid(`${where}: a list of tasks is expected`);
  const problems: string[] = [];
  const tasks: SvcTask[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const r = SvcTask.safeParse(entry);
    if (!r.success) {
      for (const issue of r.error.issues) problems.push(`[${i}].${issue.path.join('.')}: ${issue.message}`);
      return;
    }
    const key = `${r.data.domain}/${r.data.id}`;
    if (seen.has(key)) problems.push(`[${i}].id: task ${key} appears twice`);
    seen.add(key);
    tasks.push(r.data);
  });
  if (problems.length)
    throw new TaskFileInvalid(`${where}: ${problems.length} problem(s): ${problems.join('; ')}`, {
      details: { problems },
    });
  return tasks;
}
