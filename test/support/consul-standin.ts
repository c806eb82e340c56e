/**
 * A STAND-IN for a Consul agent, for tests only: no Consul server can be installed here. It is a small
 * node:http (or node:https) server that implements, in memory, exactly the parts of Consul's documented HTTP
 * API that acmectl's consul store uses, with Consul's answers:
 *
 * - KV (`/v1/kv/<key>`): GET a key (a JSON array of {Key, Value (base64, null when empty), Flags, CreateIndex,
 *   ModifyIndex, LockIndex, Session}; `?raw` for the bare value; 404 when missing), `?recurse` (every entry
 *   under a literal prefix), `?keys`; PUT with the raw value as body, answering `true`/`false` with 200 —
 *   `?cas=0` create-only, `?cas=N` compare on ModifyIndex, `?acquire=`/`?release=` with a session, `?flags=`;
 *   413 over 512 KiB; 400 for conflicting flags; DELETE, `?cas=N` (true when the key is already gone, as
 *   Consul answers), `?recurse`.
 * - Sessions (`/v1/session/create|renew|destroy|info`): TTL between 10 s and 24 h ("Invalid Session TTL"
 *   otherwise), renew (404 once gone), destroy, info; invalidation after 2 × TTL (Consul's grace), which
 *   releases (Behavior "release") or deletes (Behavior "delete") the session's locks and starts the session's
 *   lock-delay (default 15 s) on them, during which `?acquire` answers false.
 * - One Raft-like index for the whole server, incremented on every write: ModifyIndex values never repeat.
 * - ACL: when started with a token, a request without it answers 403 "Permission denied", one with another
 *   token 403 "ACL not found".
 *
 * Simpler than Consul where acmectl does not look: one node and one datacenter (`?dc=` and `?consistent` are
 * accepted and ignored), no blocking queries (X-Consul-Index is always the current index), no `?separator`,
 * no namespaces or partitions, no health checks tied to sessions, an all-or-nothing ACL, and the value size
 * is checked after reading the body rather than from Content-Length.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ConsulStandinOptions {
  /** Require this ACL token (X-Consul-Token) on every request. */
  token?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** The X-Consul-Token header, if any. */
  token: string | undefined;
}

export interface ConsulStandin {
  /** A store URL for this stand-in: consul://127.0.0.1:<port>/acmectl-test/ (consul+https:// with tls). */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Closes the server and every open connection, and forgets all data. */
  stop(): Promise<void>;
}

/** Consul's default kv_max_value_size. */
export const STANDIN_MAX_VALUE_BYTES = 512 * 1024;

const SECOND_NS = 1_000_000_000n;
const SESSION_TTL_MIN_MS = 10_000;
const SESSION_TTL_MAX_MS = 86_400_000;
/** Consul waits this many TTLs before invalidating a session that was not renewed. */
const SESSION_TTL_MULTIPLIER = 2;
const DEFAULT_LOCK_DELAY_MS = 15_000;
const MAX_LOCK_DELAY_MS = 60_000;

interface KvEntry {
  key: string;
  value: Buffer;
  flags: bigint;
  createIndex: number;
  modifyIndex: number;
  lockIndex: number;
  session: string;
}

interface Session {
  id: string;
  name: string;
  ttl: string;
  ttlMs: number;
  lockDelayMs: number;
  behavior: 'release' | 'delete';
  createIndex: number;
  timer: NodeJS.Timeout | undefined;
}

/** A Consul answer that is not 200 with JSON: status and plain-text body. */
class ConsulAnswer extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(body);
  }
}

export async function startConsulStandin(options: ConsulStandinOptions = {}): Promise<ConsulStandin> {
  const requests: RecordedRequest[] = [];
  const kv = new Map<string, KvEntry>();
  const sessions = new Map<string, Session>();
  /** Key → epoch ms until which `?acquire` is refused (lock-delay after an invalidation). */
  const lockDelays = new Map<string, number>();
  let index = 1;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://standin');
    const token = headerOf(request, 'x-consul-token');
    requests.push({ method: request.method ?? '', url: request.url ?? '', token });
    const body = await readBody(request);
    if (options.token !== undefined && token !== options.token) {
      // Consul: no token means the anonymous token, which the default-deny policy refuses.
      throw new ConsulAnswer(403, token === undefined ? 'Permission denied' : 'ACL not found');
    }
    const path = decodePath(url.pathname);
    if (path.startsWith('/v1/kv/')) return kvEndpoint(request.method ?? '', path.slice('/v1/kv/'.length), url.searchParams, body, response);
    if (path === '/v1/session/create' && request.method === 'PUT') return sendJson(response, { ID: createSession(body) });
    const sessionCall = /^\/v1\/session\/(renew|destroy|info)\/(.+)$/.exec(path);
    if (sessionCall !== null) return sessionEndpoint(request.method ?? '', sessionCall[1]!, sessionCall[2]!, response);
    throw new ConsulAnswer(404, 'Not Found');
  };

  const kvEndpoint = (method: string, key: string, query: URLSearchParams, body: Buffer, response: ServerResponse): void => {
    switch (method) {
      case 'GET': {
        if (query.has('keys')) {
          const keys = entriesUnder(key).map((entry) => entry.key);
          if (keys.length === 0 && key !== '') throw new ConsulAnswer(404, '');
          return sendJson(response, keys);
        }
        if (!query.has('recurse') && key === '') throw new ConsulAnswer(400, 'Missing key name');
        const found = query.has('recurse') ? entriesUnder(key) : kv.has(key) ? [kv.get(key)!] : [];
        if (found.length === 0) throw new ConsulAnswer(404, '');
        if (query.has('raw') && !query.has('recurse')) {
          response.writeHead(200, { 'content-type': 'text/plain', 'x-consul-index': String(index) });
          response.end(found[0]!.value);
          return;
        }
        return sendJson(response, found.map(toJson));
      }
      case 'PUT': {
        if (key === '') throw new ConsulAnswer(400, 'Missing key name');
        conflictingFlags(query, ['cas', 'acquire', 'release']);
        const flags = query.has('flags') ? parseUint(query.get('flags')!) : 0n;
        if (body.length > STANDIN_MAX_VALUE_BYTES) {
          throw new ConsulAnswer(413, `Request body(${body.length} bytes) too large, max size: ${STANDIN_MAX_VALUE_BYTES} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`);
        }
        if (query.has('acquire')) return sendJson(response, acquire(key, query.get('acquire')!, body, flags));
        if (query.has('release')) return sendJson(response, release(key, query.get('release')!, body, flags));
        const existing = kv.get(key);
        if (query.has('cas')) {
          const cas = Number(parseUint(query.get('cas')!));
          if (cas === 0 ? existing !== undefined : existing?.modifyIndex !== cas) return sendJson(response, false);
        }
        // A plain write or CAS keeps whoever holds the lock on the key.
        set(key, body, flags, existing?.session ?? '', existing?.lockIndex ?? 0);
        return sendJson(response, true);
      }
      case 'DELETE': {
        conflictingFlags(query, ['recurse', 'cas']);
        if (query.has('recurse')) {
          for (const entry of entriesUnder(key)) kv.delete(entry.key);
          index++;
          return sendJson(response, true);
        }
        if (key === '') throw new ConsulAnswer(400, 'Missing key name');
        const existing = kv.get(key);
        if (query.has('cas')) {
          const cas = Number(parseUint(query.get('cas')!));
          // Consul: a CAS delete of a key that is already gone answers true.
          if (existing === undefined) return sendJson(response, true);
          if (existing.modifyIndex !== cas) return sendJson(response, false);
        }
        if (existing !== undefined) {
          kv.delete(key);
          index++;
        }
        return sendJson(response, true);
      }
      default:
        throw new ConsulAnswer(405, `method ${method} not allowed`);
    }
  };

  const set = (key: string, value: Buffer, flags: bigint, session: string, lockIndex: number): void => {
    const existing = kv.get(key);
    // Consul skips a write that changes nothing: the ModifyIndex stays.
    if (existing !== undefined && existing.value.equals(value) && existing.flags === flags && existing.session === session && existing.lockIndex === lockIndex) return;
    index++;
    kv.set(key, { key, value, flags, createIndex: existing?.createIndex ?? index, modifyIndex: index, lockIndex, session });
  };

  const acquire = (key: string, sessionId: string, value: Buffer, flags: bigint): boolean => {
    if (!sessions.has(sessionId)) throw new ConsulAnswer(500, `invalid session "${sessionId}"`);
    if ((lockDelays.get(key) ?? 0) > Date.now()) return false;
    const existing = kv.get(key);
    if (existing !== undefined && existing.session !== '' && existing.session !== sessionId) return false;
    const lockIndex = existing === undefined ? 1 : existing.session === sessionId ? existing.lockIndex : existing.lockIndex + 1;
    set(key, value, flags, sessionId, lockIndex);
    return true;
  };

  const release = (key: string, sessionId: string, value: Buffer, flags: bigint): boolean => {
    const existing = kv.get(key);
    if (existing === undefined || existing.session !== sessionId) return false;
    set(key, value, flags, '', existing.lockIndex);
    return true;
  };

  const createSession = (body: Buffer): string => {
    const request = (body.length === 0 ? {} : JSON.parse(body.toString('utf8'))) as Record<string, unknown>;
    const behavior = request['Behavior'] ?? 'release';
    if (behavior !== 'release' && behavior !== 'delete') throw new ConsulAnswer(500, `Invalid Behavior setting '${String(behavior)}'`);
    const ttl = typeof request['TTL'] === 'string' ? request['TTL'] : '';
    const ttlNs = ttl === '' ? 0n : parseDuration(ttl);
    const ttlMs = Number(ttlNs / 1_000_000n);
    if (ttlNs !== 0n && (ttlMs < SESSION_TTL_MIN_MS || ttlMs > SESSION_TTL_MAX_MS)) {
      throw new ConsulAnswer(500, `Invalid Session TTL '${ttlNs}', must be between [10s=24h0m0s]`);
    }
    const lockDelayMs = lockDelayOf(request['LockDelay']);
    index++;
    const session: Session = {
      id: randomUUID(),
      name: typeof request['Name'] === 'string' ? request['Name'] : '',
      ttl,
      ttlMs,
      lockDelayMs,
      behavior,
      createIndex: index,
      timer: undefined,
    };
    sessions.set(session.id, session);
    armSessionTimer(session);
    return session.id;
  };

  const sessionEndpoint = (method: string, call: string, id: string, response: ServerResponse): void => {
    const session = sessions.get(id);
    if (call === 'info') {
      if (method !== 'GET') throw new ConsulAnswer(405, `method ${method} not allowed`);
      return sendJson(response, session === undefined ? [] : [sessionJson(session)]);
    }
    if (method !== 'PUT') throw new ConsulAnswer(405, `method ${method} not allowed`);
    if (call === 'renew') {
      if (session === undefined) throw new ConsulAnswer(404, `Session id '${id}' not found`);
      armSessionTimer(session);
      return sendJson(response, [sessionJson(session)]);
    }
    // destroy: Consul checks the session exists only when ACLs are on.
    if (session === undefined && options.token !== undefined) throw new ConsulAnswer(500, `Unknown session "${id}"`);
    if (session !== undefined) invalidate(session);
    return sendJson(response, true);
  };

  const armSessionTimer = (session: Session): void => {
    clearTimeout(session.timer);
    if (session.ttlMs === 0) return;
    session.timer = setTimeout(() => invalidate(session), session.ttlMs * SESSION_TTL_MULTIPLIER);
    session.timer.unref();
  };

  const invalidate = (session: Session): void => {
    clearTimeout(session.timer);
    sessions.delete(session.id);
    for (const entry of [...kv.values()]) {
      if (entry.session !== session.id) continue;
      if (session.lockDelayMs > 0) lockDelays.set(entry.key, Date.now() + session.lockDelayMs);
      if (session.behavior === 'delete') {
        kv.delete(entry.key);
        index++;
      } else {
        set(entry.key, entry.value, entry.flags, '', entry.lockIndex);
      }
    }
  };

  const entriesUnder = (prefix: string): KvEntry[] =>
    [...kv.values()].filter((entry) => entry.key.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));

  const sendJson = (response: ServerResponse, value: unknown): void => {
    response.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(index) });
    response.end(JSON.stringify(value));
  };

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof ConsulAnswer ? error.status : 500;
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(error instanceof Error ? error.message : String(error));
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'consul+https' : 'consul'}://127.0.0.1:${port}/acmectl-test/`,
    port,
    requests,
    stop: async () => {
      for (const session of sessions.values()) clearTimeout(session.timer);
      sessions.clear();
      kv.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function toJson(entry: KvEntry): Record<string, unknown> {
  return {
    LockIndex: entry.lockIndex,
    Key: entry.key,
    Flags: Number(entry.flags),
    Value: entry.value.length === 0 ? null : entry.value.toString('base64'),
    ...(entry.session !== '' ? { Session: entry.session } : {}),
    CreateIndex: entry.createIndex,
    ModifyIndex: entry.modifyIndex,
  };
}

function sessionJson(session: Session): Record<string, unknown> {
  return {
    ID: session.id,
    Name: session.name,
    Node: 'standin',
    LockDelay: session.lockDelayMs * 1_000_000,
    Behavior: session.behavior,
    TTL: session.ttl,
    CreateIndex: session.createIndex,
    ModifyIndex: session.createIndex,
  };
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Go's HTTP server hands Consul the percent-decoded path. */
function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new ConsulAnswer(400, 'invalid URL escape');
  }
}

function conflictingFlags(query: URLSearchParams, flags: string[]): void {
  if (flags.filter((flag) => query.has(flag)).length > 1) throw new ConsulAnswer(400, `Conflicting flags: ${query.toString()}`);
}

function parseUint(text: string): bigint {
  if (!/^\d{1,20}$/.test(text)) throw new ConsulAnswer(500, `strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  return BigInt(text);
}

/** A Go duration as Consul takes it ("10s", "1m30s", "500ms"), in nanoseconds. */
function parseDuration(text: string): bigint {
  const units: Record<string, bigint> = { ns: 1n, us: 1_000n, µs: 1_000n, ms: 1_000_000n, s: SECOND_NS, m: 60n * SECOND_NS, h: 3600n * SECOND_NS };
  const parts = [...text.matchAll(/(\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '0') return 0n;
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new ConsulAnswer(500, `Session TTL '${text}' invalid: time: invalid duration "${text}"`);
  return parts.reduce((total, part) => total + BigInt(part[1]!) * units[part[2]!]!, 0n);
}

/** LockDelay as Consul reads it: a duration string, or a number (seconds below 1000, else nanoseconds). */
function lockDelayOf(value: unknown): number {
  let delayMs = DEFAULT_LOCK_DELAY_MS;
  if (typeof value === 'string') delayMs = Number(parseDuration(value) / 1_000_000n);
  if (typeof value === 'number') delayMs = value < 1000 ? value * 1000 : value / 1_000_000;
  if (delayMs > MAX_LOCK_DELAY_MS) throw new ConsulAnswer(500, 'Lock delay must be less than 60s');
  return delayMs;
}
