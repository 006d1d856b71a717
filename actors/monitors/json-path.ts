/**
 * The value at a dotted path in a parsed JSON body (`status`, `sync.last`, `items.0.name`), or undefined when the
 * path leads nowhere. Own properties only: a path is configuration, but the body is whatever the target sent.
 */
export function valueAt(body: unknown, path: string): unknown {
  let v: unknown = body;
  for (const step of path.split('.')) {
    if (Array.isArray(v) && /^\d+$/.test(step)) v = v[Number(step)];
    else if (v !== null && typeof v === 'object' && Object.hasOwn(v, step))
      v = (v as Record<string, unknown>)[step];
    else return undefined;
  }
  return v;
}
