/** Remove credentials from a connection URL (store, bus) before it appears in an error or log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, (_m, user: string) => `//${user}${user ? ':***' : ''}@`);
}
