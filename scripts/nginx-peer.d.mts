// Types for scripts/nginx-peer.mjs.
export declare const NGINX_CACHE: string;
export declare const UNPACKED_NGINX: string;
export declare function nginxBinary(): string | undefined;
export declare function unpackNginx(debs?: readonly string[]): { ok: true } | { ok: false; error: string };
