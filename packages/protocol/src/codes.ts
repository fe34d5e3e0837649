/**
 * The one table of error codes. Every door (browser API, device door, HTTP API)
 * answers bad input with a code from here; `docs/errors.md` is generated from the
 * same data and a test keeps the two in sync.
 *
 * Ranges carry policy, so a client can act on a code it has never seen:
 *   1000–1999  fix your request: sending the same thing again gives the same answer
 *   2000–2999  retry later: a transient condition on the hub or a device (use backoff)
 *   3000–3999  access: authenticate, or you are not allowed; do not retry blindly
 */
export type Policy = 'fix' | 'retry' | 'access';

export interface CodeInfo {
  readonly code: number;
  readonly http: number;
  readonly message: string;
  readonly doc: string;
}

function def(code: number, http: number, message: string, doc: string): CodeInfo {
  return { code, http, message, doc };
}

export const Codes = {
  // 1000–1999: fix your request
  BAD_JSON: def(1000, 400, 'frame is not valid JSON', 'The text frame could not be parsed as JSON.'),
  BAD_FRAME: def(1001, 400, 'frame must be a JSON object', 'The frame parsed, but is not an object (an array, a number, null…).'),
  UNKNOWN_OP: def(1002, 400, 'unknown op', 'The `op` field names no operation of this door.'),
  MISSING_FIELD: def(1003, 400, 'a required field is missing', 'A field the operation requires is absent; `message` names it.'),
  WRONG_TYPE: def(1004, 400, 'a field has the wrong type', 'A field is present but of the wrong type or out of its range; `message` names it.'),
  FRAME_TOO_LARGE: def(1005, 413, 'frame too large', 'The frame is larger than the door allows (`maxFrameBytes`, default 64 KiB).'),
  INVALID_TOPIC: def(1006, 400, 'invalid topic', 'A publish topic is empty, too long, contains `+`, `#` or NUL, or is not valid UTF-8.'),
  INVALID_FILTER: def(1007, 400, 'invalid topic filter', 'A subscription filter is empty, too long, or uses `+`/`#` outside a whole level (`#` only last).'),
  NOT_UTF8: def(1008, 400, 'frame is not valid UTF-8', 'A text frame carried bytes that are not UTF-8, or a binary frame was sent where text is required.'),
  BAD_TIME_RANGE: def(1009, 400, 'invalid time range', '`from`/`to` are not parseable times, or `from` is after `to`.'),
  LIMIT_TOO_LARGE: def(1010, 400, 'limit too large', '`limit` is over the maximum the hub allows.'),
  UNKNOWN_BUCKET: def(1011, 400, 'unknown bucket', '`bucket` is not a duration such as `10s`, `5m`, `1h`, `1d` or a number of milliseconds.'),
  DUPLICATE_ID: def(1012, 400, 'request id already in use', 'A request reused the `id` of a request still in progress on this connection.'),
  INVALID_ID: def(1013, 400, 'invalid device id', 'A device id is empty, longer than 64 characters, or has characters other than letters, digits, `-`, `_`, `.` and `:`.'),
  NOT_SUBSCRIBED: def(1014, 400, 'not subscribed to that filter', '`unsub` named a filter this connection has not subscribed to.'),
  TOO_MANY_SUBSCRIPTIONS: def(1015, 400, 'too many subscriptions', 'The connection already holds the maximum number of subscriptions (`maxSubscriptions`).'),
  UNKNOWN_DEVICE: def(1016, 404, 'unknown device', 'No device with that id has ever been seen by this hub.'),
  NOT_FOUND: def(1017, 404, 'not found', 'No such HTTP route.'),
  BAD_PAYLOAD: def(1018, 400, 'invalid payload', 'A payload is not what the topic requires (telemetry must be a JSON object of readings).'),
  INVALID_PARAMS: def(1019, 400, 'invalid query parameters', 'An HTTP query string repeats a parameter (`device=a&device=b`) or names one the route does not take (`device[]`, `Device`); `message` names it. Each parameter is given at most once.'),
  PAYLOAD_LIMIT: def(1024, 413, 'payload over a bound', 'A payload (or frame) nests deeper, has more keys, or (device meta) is larger than the hub keeps: `--max-payload-depth`, `--max-payload-keys`, `--max-meta-bytes` (docs/security.md, Bounds); `message` names the bound.'),
  RETAINED_LIMIT: def(1025, 413, 'retained limit reached', 'A retained message would take its publisher (or the hub) over the retained limits (`retainedMaxBytesPerClient`, `retainedMaxTopicsPerClient`, `retainedMaxBytes`, `retainedMaxTopics`); it was not published. Clear old retained topics (an empty retained payload) or publish without `retain`.'),
  // Alerts (docs/alerts.md)
  INVALID_RULE: def(1040, 400, 'invalid alert rule', 'An alert rule (API, browser op or alerts file) does not validate; `message` names the field.'),
  UNKNOWN_RULE: def(1041, 404, 'unknown alert rule', 'No alert rule with that name.'),
  UNKNOWN_ALERT: def(1042, 404, 'unknown alert', 'No alert with that id.'),
  RULE_READ_ONLY: def(1043, 409, 'rule defined in the alerts file', 'The rule comes from --alerts-file: change it there and send SIGHUP; the API changes only rules made over the API.'),
  // Link (docs/link.md)
  LINK_SEQ_GAP: def(1050, 409, 'batch does not continue the mark', 'A link batch started past the receiver\'s high-water mark for its lane and epoch (records would be skipped). It is refused whole; the `resend` frame names the mark: send again from the record after it.'),
  LINK_NAMESPACE: def(1051, 403, 'record outside the site\'s namespace', 'A link record names a topic that is not a device message a site may forward (`devices/{id}/telemetry|status|meta|cmd/{method}/res`), or a device id that is not valid once prefixed with the site (`{site}:{id}`, at most 64 characters). Central does not apply it, counts it (`fieldlink_link_events_total{counter="refused"}`), tells the site with this code and moves on, so the lane is not stuck.'),

  // 2000–2999: retry later
  INTERNAL: def(2000, 500, 'internal error', 'The hub failed to handle the request; it is logged with the request id. Retry with backoff.'),
  CALL_TIMEOUT: def(2001, 504, 'device did not answer in time', 'A `call` got no response from the device within its timeout (default 5 s).'),
  DEVICE_OFFLINE: def(2002, 503, 'device is offline', 'A `call` targeted a device whose status is offline; nothing was sent.'),
  OVERLOADED: def(2003, 503, 'hub overloaded', 'A queue on the hub is full (e.g. the ingest queue); the request was not accepted.'),
  RATE_LIMITED: def(2004, 429, 'rate limited', 'The client sent faster than its allowance; wait and retry.'),
  STORE_UNAVAILABLE: def(2005, 503, 'store unavailable', 'The telemetry store is not configured or could not be reached.'),
  SHUTTING_DOWN: def(2006, 503, 'hub is shutting down', 'The hub is stopping; reconnect with backoff (another instance may take over).'),
  DEVICE_ERROR: def(2007, 502, 'device answered with an error', 'The device received the command and answered with an error; its detail is in `message`.'),
  REQUEST_TIMEOUT: def(2008, 504, 'no reply in time', 'Raised by the typed client: no reply arrived within the request\'s timeout (the request may still have been processed).'),
  SITE_OFFLINE: def(2010, 503, 'site is not connected', 'A `call` targeted a device of a linked site (`{site}:{device}`) whose link is down; nothing was sent. Retry when the site is back (`GET /api/v1/links` shows it).'),
  CONNECTION_LOST: def(2009, 503, 'connection lost', 'Raised by the typed client: the connection closed before the reply arrived; the request may or may not have been processed.'),

  // 3000–3999: access
  UNAUTHENTICATED: def(3000, 401, 'authentication required', 'The operation needs an authenticated connection: send `auth` first.'),
  BAD_CREDENTIALS: def(3001, 401, 'bad credentials', 'The credentials are wrong, revoked or expired.'),
  FORBIDDEN: def(3002, 403, 'forbidden', 'The identity is authenticated but the access rules do not allow this operation on this topic.'),
  ORIGIN_REJECTED: def(3003, 403, 'origin not allowed', 'A WebSocket upgrade came from an Origin that is not on the allow-list.'),
  HOST_REJECTED: def(3004, 421, 'host not allowed', 'The request\'s `Host` is not a name this hub is known by (DNS-rebinding protection): the hub answers to loopback names, its own names and addresses, and `--allowed-hosts`. Applies to HTTP requests and to WebSocket upgrades from browsers (with an Origin). An operator reaching the hub by another name adds it with `--allowed-hosts`.'),
} as const;

export type CodeName = keyof typeof Codes;

export function policyOf(code: number): Policy {
  if (code >= 3000) return 'access';
  if (code >= 2000) return 'retry';
  return 'fix';
}

const byNumber = new Map<number, CodeName>();
for (const [name, info] of Object.entries(Codes) as [CodeName, CodeInfo][]) byNumber.set(info.code, name);

export function codeName(code: number): CodeName | undefined {
  return byNumber.get(code);
}

/**
 * WebSocket close codes the hub sends (RFC 6455 private range 4000–4999 plus the
 * standard ones it uses). `reconnect` tells clients whether to try again.
 */
export const CloseCodes = {
  GOING_AWAY: { code: 1001, reconnect: true, doc: 'The hub is shutting down. Reconnect with backoff.' },
  PROTOCOL_ERROR: { code: 1002, reconnect: false, doc: 'A WebSocket-level protocol violation.' },
  UNSUPPORTED_DATA: { code: 1003, reconnect: false, doc: 'Binary frame on a text-only door.' },
  INVALID_PAYLOAD: { code: 1007, reconnect: false, doc: 'A text frame, or the reason of a close frame, that is not UTF-8 (RFC 6455 §8.1).' },
  TOO_BIG: { code: 1009, reconnect: false, doc: 'A frame over the WebSocket layer\'s hard size limit.' },
  TRY_AGAIN_LATER: { code: 1013, reconnect: true, doc: 'The hub cannot keep this connection now (its registry of live connections is full). Reconnect with backoff.' },
  AUTH_TIMEOUT: { code: 4001, reconnect: false, doc: 'No successful `auth` within the deadline.' },
  REVOKED: { code: 4003, reconnect: false, doc: 'The credentials this connection was opened with no longer hold: token revoked or expired, user removed or password changed, device secret rotated or device removed, or the login session past its maximum age. Authenticate again with current credentials.' },
  SLOW_CONSUMER: { code: 4008, reconnect: true, doc: 'The client did not read fast enough and its outgoing queue passed the hard limit.' },
  REPLACED: { code: 4009, reconnect: false, doc: 'Another connection took over this device id (or, on `/link`, this site).' },
} as const;
