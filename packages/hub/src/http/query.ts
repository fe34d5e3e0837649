/**
 * The one reader of query strings for every HTTP route. Issue #11 item 2: with
 * `?device=dev-a&device=dev-b` the access check read one value and the query the
 * other. Here each route names the parameters it takes and gets back exactly one
 * string per name, so whoever reads a parameter reads the same value:
 *
 *  - a name given twice is refused (`device=a&device=b`, `device=&device=b`, and
 *    `device=a&%64evice=b`: names are compared after percent-decoding, the one
 *    decoding every reader sees) → INVALID_PARAMS;
 *  - a name the route does not take is refused (`device[]`, `Device`, `devices`,
 *    a typo), rather than silently ignored while something else might read it;
 *  - an empty value stays `''`: the route decides whether that means absent.
 *
 * Routes that take no parameters pass `[]`; static files never read the query.
 */
import type { CodeName } from '@fieldlink/protocol';

export type QueryParse = { ok: true; params: Record<string, string> } | { ok: false; code: CodeName; message: string };

const show = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);

export function parseQuery(search: URLSearchParams, allowed: readonly string[]): QueryParse {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of search) {
    if (!allowed.includes(name)) {
      const takes = allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes none';
      return { ok: false, code: 'INVALID_PARAMS', message: `unknown query parameter ${show(name)}: ${takes}` };
    }
    if (name in params) return { ok: false, code: 'INVALID_PARAMS', message: `query parameter ${show(name)} is given more than once` };
    params[name] = value;
  }
  return { ok: true, params };
}
