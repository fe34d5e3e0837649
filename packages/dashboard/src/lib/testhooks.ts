/**
 * Hooks for the browser tests, off unless the page's URL has `?e2e` (before the
 * hash). Then `window.__fieldlink` holds what a test needs exactly and the DOM
 * does not show (every timestamp a chart holds). Without the flag nothing is
 * exposed and nothing behaves differently.
 */
const enabled = typeof location !== 'undefined' && new URLSearchParams(location.search).has('e2e');

export function expose(name: string, value: unknown): void {
  if (!enabled) return;
  const w = window as unknown as { __fieldlink?: Record<string, unknown> };
  (w.__fieldlink ??= {})[name] = value;
}
