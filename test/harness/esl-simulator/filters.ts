import type { SimEvent } from './events.ts';
import { headerOf } from './events.ts';

/** One `filter Header value` of a listener. */
export interface EventFilter {
  header: string;
  value: string;
}

/**
 * mod_event_socket's filter pass (mod_event_socket.c:318-370): once any filter exists an event is sent only if a
 * positive filter matches; a value prefixed `-` is negative and drops a matching event; a value starting with
 * `/` is a regular expression, anything else compares case-insensitively. Events lacking the header skip that
 * filter. BACKGROUND_JOB goes through the same pass (a filter on Unique-ID hides job results).
 */
export function passesFilters(filters: readonly EventFilter[], e: SimEvent): boolean {
  if (filters.length === 0) return true;
  let send = false;
  for (const f of filters) {
    const hval = headerOf(e, f.header);
    if (hval === undefined) continue;
    let compTo = f.value;
    let pos = true;
    for (;;) {
      if (compTo.startsWith('+')) pos = true;
      else if (compTo.startsWith('-')) pos = false;
      else if (!compTo.startsWith(' ')) break;
      compTo = compTo.slice(1);
    }
    if (send && pos) continue;
    const cmp = f.value.startsWith('/')
      ? regexMatches(compTo, hval)
      : compTo.toLowerCase() === hval.toLowerCase();
    if (cmp) {
      if (pos) send = true;
      else return false;
    }
  }
  return send;
}

/** switch_regex_perform takes `/re/` (delimiters stripped) or a bare pattern. */
function regexMatches(pattern: string, value: string): boolean {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  try {
    const re = m
      ? new RegExp(m[1] as string, (m[2] ?? '').replace(/[^imsu]/g, ''))
      : new RegExp(pattern.slice(1));
    return re.test(value);
  } catch {
    return false;
  }
}
