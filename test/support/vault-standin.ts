/**
 * A STAND-IN for HashiCorp Vault, because no Vault server can be installed here. It is an in-memory node:http(s)
 * server implementing exactly the documented parts of Vault's HTTP API that acmectl's vault store uses, with
 * Vault's answers (status codes and JSON shapes), so that the store's tests exercise the real wire protocol:
 *
 * - KV version 2 at the given mounts (default `secret`): GET/POST/PUT/DELETE `<mount>/data/<path>` with
 *   per-key versions, `options.cas` (400 "check-and-set parameter did not match the current version"), soft
 *   delete of the latest version (a later GET answers 404 WITH the deleted version's metadata), max_versions 10;
 *   GET `<mount>/metadata/<path>` (the key's versions) and `?list=true` (one level, folders end in '/', 404
 *   when nothing is below); DELETE `<mount>/metadata/<path>` (the key and all its versions, forgotten).
 * - X-Vault-Token on every request but logins: 403 {"errors":["permission denied"]} when missing or unknown.
 * - X-Vault-Namespace: required on every request, logins included, when the stand-in has a namespace.
 * - POST auth/<approle mount>/login {role_id, secret_id}, auth/<kubernetes mount>/login {role, jwt}
 *   → {"auth": {"client_token": ...}}; POST auth/token/revoke-self.
 *
 * Simpler than Vault (none of it matters to acmectl): no policies (a known token may do everything), every
 * mount is KV v2, a wrong namespace is a plain 403, no LIST method (Node's HTTP parser rejects it; acmectl
 * uses GET ?list=true, which Vault accepts too), no leases, TTLs, renewals, destroy/undelete or config endpoints,
 * no request forwarding, and all state is lost on stop().
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface VaultStandinOptions {
  /** A token the stand-in accepts (as if created with `vault token create`). */
  token?: string;
  /** When set, every request must carry this X-Vault-Namespace. */
  namespace?: string;
  /** Enables AppRole login at auth/<mount ?? 'approle'>/login for exactly these credentials. */
  approle?: { roleId: string; secretId: string; mount?: string };
  /** Enables Kubernetes login at auth/<mount ?? 'kubernetes'>/login for exactly this role and JWT. */
  kubernetes?: { role: string; jwt: string; mount?: string };
  /** KV version 2 mounts; default ['secret'], as in `vault server -dev`. */
  mounts?: string[];
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export interface RecordedVaultRequest {
  method: string;
  /** Path and query as sent, e.g. `/v1/secret/data/acmectl/entries/certs%2Fx`. */
  url: string;
  namespace: string | undefined;
  token: string | undefined;
}

export interface VaultStandin {
  /** `vault://127.0.0.1:PORT` (or `vault+https://...` with tls): append `/MOUNT/PATH?...` for a store URL. */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedVaultRequest[];
  /** Revokes every token handed out by a login, as an expired token lease would. */
  revokeIssuedTokens(): void;
  stop(): Promise<void>;
}

interface StoredVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface StoredSecret {
  currentVersion: number;
  createdTime: string;
  updatedTime: string;
  versions: Map<number, StoredVersion>;
}

/** Vault's default, and the largest request body it accepts by default (max_request_size: 32 MiB). */
const MAX_VERSIONS = 10;
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

class VaultAnswer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

const permissionDenied = (): VaultAnswer => new VaultAnswer(403, { errors: ['permission denied'] });
const noRoute = (path: string): VaultAnswer =>
  new VaultAnswer(404, { errors: [`no handler for route "${path}". route entry not found.`] });
const unsupported = (): VaultAnswer => new VaultAnswer(405, { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });

export async function startVaultStandin(options: VaultStandinOptions = {}): Promise<VaultStandin> {
  const requests: RecordedVaultRequest[] = [];
  const mounts = new Map((options.mounts ?? ['secret']).map((mount) => [mount, new Map<string, StoredSecret>()]));
  const userTokens = new Set(options.token !== undefined ? [options.token] : []);
  const issuedTokens = new Set<string>();

  const handle = (method: string, rawUrl: string, headers: IncomingMessage['headers'], body: unknown): VaultAnswer => {
    const url = new URL(rawUrl, 'http://vault.invalid');
    if (!url.pathname.startsWith('/v1/')) return new VaultAnswer(404, { errors: [] });
    // Like Vault (Go's URL.Path), the whole path is percent-decoded, %2F included.
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice('/v1/'.length));
    } catch {
      return new VaultAnswer(400, { errors: ['invalid URL escape'] });
    }
    if (options.namespace !== undefined && headers['x-vault-namespace'] !== options.namespace) return permissionDenied();

    const login = /^auth\/(.+)\/login$/.exec(path);
    if (login !== null && method === 'POST') return logIn(login[1]!, body);

    const token = header(headers, 'x-vault-token');
    if (token === undefined || !(userTokens.has(token) || issuedTokens.has(token))) return permissionDenied();
    if (path === 'auth/token/revoke-self' && method === 'POST') {
      issuedTokens.delete(token);
      userTokens.delete(token);
      return new VaultAnswer(204);
    }

    for (const [mount, secrets] of mounts) {
      if (!path.startsWith(`${mount}/`)) continue;
      const rest = path.slice(mount.length + 1);
      const [, area, key = ''] = /^(data|metadata)\/(.*)$/.exec(rest) ?? [];
      if (area === 'data' && key !== '') return dataEndpoint(secrets, method, key, body);
      if (area === 'metadata') return metadataEndpoint(secrets, method, key, url.searchParams.get('list') === 'true');
      return noRoute(path);
    }
    return noRoute(path);
  };

  const logIn = (mount: string, body: unknown): VaultAnswer => {
    const given = isRecord(body) ? body : {};
    if (options.approle !== undefined && mount === (options.approle.mount ?? 'approle')) {
      if (given.role_id !== options.approle.roleId || given.secret_id !== options.approle.secretId) {
        return new VaultAnswer(400, { errors: ['invalid role or secret ID'] });
      }
      return issueToken(['acmectl']);
    }
    if (options.kubernetes !== undefined && mount === (options.kubernetes.mount ?? 'kubernetes')) {
      if (given.role !== options.kubernetes.role) return new VaultAnswer(400, { errors: [`invalid role name "${String(given.role)}"`] });
      if (given.jwt !== options.kubernetes.jwt) return permissionDenied();
      return issueToken(['acmectl']);
    }
    return noRoute(`auth/${mount}/login`);
  };

  const issueToken = (policies: string[]): VaultAnswer => {
    const clientToken = `hvs.standin-${randomUUID()}`;
    issuedTokens.add(clientToken);
    return new VaultAnswer(200, envelope(null, {
      auth: { client_token: clientToken, accessor: randomUUID(), policies, token_policies: policies, lease_duration: 2764800, renewable: true },
    }));
  };

  const server: Server = options.tls !== undefined ? createHttpsServer(options.tls) : createHttpServer();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    const rawUrl = request.url ?? '/';
    requests.push({ method, url: rawUrl, namespace: header(request.headers, 'x-vault-namespace'), token: header(request.headers, 'x-vault-token') });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      let answer: VaultAnswer;
      if (tooLarge) {
        answer = new VaultAnswer(413, { errors: ['http: request body too large'] });
      } else {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = Symbol('unparseable');
        }
        answer = typeof body === 'symbol' ? new VaultAnswer(400, { errors: ['failed to parse JSON input'] }) : handle(method, rawUrl, request.headers, body);
      }
      if (answer.body === undefined) {
        response.writeHead(answer.status);
        response.end();
      } else {
        response.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(`${JSON.stringify(answer.body)}\n`);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls !== undefined ? 'vault+https' : 'vault'}://127.0.0.1:${port}`,
    port,
    requests,
    revokeIssuedTokens: () => issuedTokens.clear(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function dataEndpoint(secrets: Map<string, StoredSecret>, method: string, key: string, body: unknown): VaultAnswer {
  const secret = secrets.get(key);
  switch (method) {
    case 'GET': {
      const latest = secret?.versions.get(secret.currentVersion);
      if (secret === undefined || latest === undefined) return new VaultAnswer(404, { errors: [] });
      const metadata = versionMetadata(secret.currentVersion, latest);
      if (latest.deletionTime !== '' || latest.destroyed) {
        // Vault answers a deleted latest version with 404, but still shows which version it is.
        return new VaultAnswer(404, envelope({ data: null, metadata }));
      }
      return new VaultAnswer(200, envelope({ data: latest.data, metadata }));
    }
    case 'POST':
    case 'PUT': {
      if (!isRecord(body) || !isRecord(body.data)) return new VaultAnswer(400, { errors: ['no data provided'] });
      const cas = isRecord(body.options) ? body.options.cas : undefined;
      if (cas !== undefined && cas !== (secret?.currentVersion ?? 0)) {
        return new VaultAnswer(400, { errors: ['check-and-set parameter did not match the current version'] });
      }
      const now = new Date().toISOString();
      const stored = secret ?? { currentVersion: 0, createdTime: now, updatedTime: now, versions: new Map() };
      stored.currentVersion += 1;
      stored.updatedTime = now;
      const version: StoredVersion = { data: structuredClone(body.data), createdTime: now, deletionTime: '', destroyed: false };
      stored.versions.set(stored.currentVersion, version);
      stored.versions.delete(stored.currentVersion - MAX_VERSIONS);
      secrets.set(key, stored);
      return new VaultAnswer(200, envelope(versionMetadata(stored.currentVersion, version)));
    }
    case 'DELETE': {
      const latest = secret?.versions.get(secret.currentVersion);
      if (latest !== undefined && latest.deletionTime === '') latest.deletionTime = new Date().toISOString();
      return new VaultAnswer(204);
    }
    default:
      return unsupported();
  }
}

function metadataEndpoint(secrets: Map<string, StoredSecret>, method: string, key: string, list: boolean): VaultAnswer {
  if (method === 'GET' && list) {
    const folder = key === '' || key.endsWith('/') ? key : `${key}/`;
    const names = new Set<string>();
    for (const path of secrets.keys()) {
      if (!path.startsWith(folder)) continue;
      const rest = path.slice(folder.length);
      const slash = rest.indexOf('/');
      names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    if (names.size === 0) return new VaultAnswer(404, { errors: [] });
    return new VaultAnswer(200, envelope({ keys: [...names].sort() }));
  }
  const secret = secrets.get(key);
  switch (method) {
    case 'GET': {
      if (secret === undefined) return new VaultAnswer(404, { errors: [] });
      const versions = Object.fromEntries(
        [...secret.versions].map(([number, version]) => [
          String(number),
          { created_time: version.createdTime, deletion_time: version.deletionTime, destroyed: version.destroyed },
        ]),
      );
      return new VaultAnswer(200, envelope({
        cas_required: false,
        created_time: secret.createdTime,
        current_version: secret.currentVersion,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        oldest_version: Math.min(...secret.versions.keys()),
        updated_time: secret.updatedTime,
        versions,
      }));
    }
    case 'DELETE':
      secrets.delete(key);
      return new VaultAnswer(204);
    default:
      return unsupported();
  }
}

function versionMetadata(version: number, stored: StoredVersion) {
  return { created_time: stored.createdTime, custom_metadata: null, deletion_time: stored.deletionTime, destroyed: stored.destroyed, version };
}

/** Vault's response envelope around `data` (and `auth` for logins). */
function envelope(data: unknown, extra: Record<string, unknown> = {}) {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, ...extra };
}

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
