import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { OperationError } from '../domain/errors.js';
import { CHALLENGE_PATH_PREFIX, isValidToken } from '../domain/http01.js';
import type { Http01Challenge, Http01Solver } from '../domain/http01.js';
import { validationHint } from './validation-hints.js';
import type { ValidationFailure } from '../domain/http01.js';

export interface StandaloneOptions {
  port: number;
  /** Addresses to listen on; empty/undefined means every IPv4 and IPv6 address. */
  addresses?: readonly string[];
}

/**
 * A short-lived HTTP server that answers exactly the tokens of the current orders with their key
 * authorization and 404 for everything else. It listens from the first present() until the last
 * cleanUp() (or close()), so port 80 is held only while the CA validates.
 */
export class StandaloneSolver implements Http01Solver {
  private readonly answers = new Map<string, string>();
  private servers: Server[] = [];
  /**
   * Opening and closing the listeners happen one after the other, never overlapping: concurrent orders of a
   * run share this solver, and a present() arriving while the last cleanUp() is still closing must not
   * bind the port before the old socket is released (EADDRINUSE).
   */
  private transitions: Promise<void> = Promise.resolve();

  constructor(private readonly options: StandaloneOptions) {}

  get description(): string {
    const where = this.options.addresses?.length ? this.options.addresses.join(', ') : 'all addresses';
    return `standalone server on port ${this.options.port} (${where})`;
  }

  /** Binds the port and lets it go again (unless orders hold it already): a port taken fails here, before any order. */
  async checkReady(): Promise<void> {
    await this.transition(async () => {
      if (this.servers.length > 0) return;
      await this.listen();
      if (this.answers.size === 0) await this.closeServers();
    });
  }

  hintFor(failure: ValidationFailure): string | undefined {
    return validationHint({ method: 'standalone', port: this.options.port }, failure);
  }

  async present(challenge: Http01Challenge): Promise<void> {
    this.answers.set(challenge.token, challenge.keyAuthorization);
    try {
      await this.transition(() => this.listen());
    } catch (error) {
      this.answers.delete(challenge.token);
      throw error;
    }
  }

  async cleanUp(challenge: Http01Challenge): Promise<void> {
    this.answers.delete(challenge.token);
    await this.transition(async () => {
      if (this.answers.size === 0) await this.closeServers();
    });
  }

  async close(): Promise<void> {
    await this.transition(() => this.closeServers());
  }

  /** The request handler of every listener this solver opens (`acmectl serve` shares lookupAnswer and respond). */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const answer = lookupAnswer(request, (token) => this.answers.get(token));
    respond(request, response, answer);
  };

  private transition(step: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }

  private async listen(): Promise<void> {
    if (this.servers.length > 0) return;
    const addresses = this.options.addresses?.length ? this.options.addresses : [undefined];
    try {
      for (const address of addresses) this.servers.push(await listenOn(this.handle, this.options.port, address));
    } catch (error) {
      await this.closeServers();
      throw bindFailure(error, this.options.port, addresses);
    }
  }

  private async closeServers(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections(); // keep-alive connections from the CA would hold close() open
          }),
      ),
    );
  }
}

/** The key authorization for a challenge request, or undefined (wrong method, path or token). */
export function lookupAnswer(request: IncomingMessage, answerFor: (token: string) => string | undefined): string | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
  const path = (request.url ?? '').split('?')[0]!;
  if (!path.startsWith(CHALLENGE_PATH_PREFIX)) return undefined;
  const token = path.slice(CHALLENGE_PATH_PREFIX.length);
  return isValidToken(token) ? answerFor(token) : undefined;
}

export function respond(request: IncomingMessage, response: ServerResponse, answer: string | undefined): void {
  const body = answer ?? 'not found\n';
  response.writeHead(answer === undefined ? 404 : 200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export function listenOn(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number, address: string | undefined): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 8192 }, handler);
    server.keepAliveTimeout = 1000;
    server.once('error', reject);
    // No address: '::' with dual-stack covers IPv4 and IPv6; Node falls back to 0.0.0.0 without IPv6.
    server.listen({ port, host: address, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function bindFailure(error: unknown, port: number, addresses: readonly (string | undefined)[]): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = addresses[0] ? ` on ${addresses.join(', ')}` : '';
  if (code === 'EADDRINUSE') {
    return new OperationError(`port ${port} is already in use by another process${where}`, {
      hint: 'stop it with --pre-hook, or use --webroot DIR, or run acmectl serve behind your proxy',
      cause: error,
    });
  }
  if (code === 'EACCES') {
    return new OperationError(`not allowed to listen on port ${port}${where}`, {
      hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; or use --webroot DIR with your web server',
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new OperationError(`cannot listen on ${addresses.join(', ')}: no such address on this machine`, { hint: 'check --http-address', cause: error });
  }
  return new OperationError(`could not start the standalone server on port ${port}${where}: ${(error as Error).message}`, { cause: error });
}
