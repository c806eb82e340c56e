/**
 * A STAND-IN for an ACME CA, for the core's tests (issueCertificate, runRenewals): a CaConnector whose clients
 * answer in memory, with no HTTP, no JWS and no nonces. It keeps orders and authorizations as a CA does, validates
 * an HTTP-01 challenge by looking at what its own `solver` presents (the key authorization for the account's key),
 * and at finalize issues a real certificate for the CSR's key from a small test CA (test-pki.ts), so everything
 * after the order (leaf check, chain check, record, export) runs on a genuine certificate.
 *
 * A test decides the order of concurrent runs with holds, not sleeps: `hold('finalize')` makes the next finalize
 * wait until the test releases it (or fails it with an error), and says when it was reached. `calls(step)` counts
 * the requests of each step, held or not. What it does not do: ARI, EAB, key changes, revocation, Retry-After.
 */
import { randomBytes } from 'node:crypto';
import type { AcmeAuthorization, AcmeDirectory, AcmeOrder, AcmeStatus, CaClient, DownloadedCertificate } from '../../src/acme/client.js';
import type { PollResult } from '../../src/acme/polling.js';
import type { CaConnector } from '../../src/core/issue-request.js';
import type { Http01Challenge, Http01Solver } from '../../src/domain/http01.js';
import type { Identifier } from '../../src/domain/identifiers.js';
import { keyAuthorization } from '../../src/pki/keys.js';
import { leafForCsr, root, type Authority } from './test-pki.js';

/** The requests a test can count and hold. */
export type CaStep = 'newAccount' | 'newOrder' | 'challenge' | 'finalize' | 'download';

/** One request of a step held by the test. */
export interface HeldStep {
  /** Resolves when the request arrived and is waiting. */
  readonly reached: Promise<void>;
  /** Lets the request go on. */
  release(): void;
  /** Makes the request fail with `error` (a refusal, a lost connection). */
  fail(error: Error): void;
}

interface PendingHold extends HeldStep {
  step: CaStep;
  /** Holds only requests about an order for this identifier; any when absent. */
  identifier: string | undefined;
  arrive(): Promise<void>;
}

interface Order {
  url: string;
  identifiers: Identifier[];
  authorizations: string[];
  finalized: boolean;
  certificateUrl?: string;
}

interface Authorization {
  url: string;
  identifier: Identifier;
  order: Order;
  token: string;
  accountKeyPem: string;
  status: AcmeStatus;
}

let sharedAuthority: Authority | undefined;

export class ScriptedCa {
  readonly directoryUrl = 'https://scripted-ca.test/directory';
  /** The root that signs every certificate; a chain is leaf + root. Made once per test file (RSA key generation is slow). */
  readonly authority: Authority = (sharedAuthority ??= root('acmectl scripted test CA'));
  /** Where this CA looks for HTTP-01 answers: hand it to issueCertificate as the solver. */
  readonly solver = new ScriptedSolver();

  readonly #base = 'https://scripted-ca.test';
  readonly #calls = new Map<CaStep, number>();
  readonly #callWaiters: { step: CaStep; times: number; resolve: () => void }[] = [];
  readonly #holds: PendingHold[] = [];
  readonly #everyHold: HeldStep[] = [];
  readonly #orders = new Map<string, Order>();
  readonly #authorizations = new Map<string, Authorization>();
  readonly #certificates = new Map<string, string>();
  #next = 0;

  /** Opens the CA with an account key, as CaClient.connect does. */
  readonly connect: CaConnector = async (_directoryUrl, accountKeyPem, options) => this.#client(accountKeyPem, options.accountUrl);

  /** How many requests of `step` arrived so far (held ones included). */
  calls(step: CaStep): number {
    return this.#calls.get(step) ?? 0;
  }

  /** Resolves once `step` has been requested `times` times in all. */
  called(step: CaStep, times = 1): Promise<void> {
    if (this.calls(step) >= times) return Promise.resolve();
    return new Promise((resolve) => this.#callWaiters.push({ step, times, resolve }));
  }

  /** Holds the next request of `step` (about an order for `identifier`, when given) until the test lets it go. */
  hold(step: CaStep, identifier?: string): HeldStep {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    let fail!: (error: Error) => void;
    const gate = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    gate.catch(() => {}); // a failure decided before the request arrives is not unhandled
    const held: PendingHold = {
      step,
      identifier,
      reached,
      release,
      fail,
      arrive: () => {
        arrived();
        return gate;
      },
    };
    this.#holds.push(held);
    this.#everyHold.push(held);
    return held;
  }

  /** Lets every held request go, and every one still to come: for a test's cleanup, pass or fail. */
  releaseAll(): void {
    for (const held of this.#everyHold) held.release();
  }

  async #step(step: CaStep, identifiers: readonly Identifier[]): Promise<void> {
    const count = this.calls(step) + 1;
    this.#calls.set(step, count);
    for (const waiter of this.#callWaiters.filter((w) => w.step === step && w.times <= count)) {
      this.#callWaiters.splice(this.#callWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    const index = this.#holds.findIndex((h) => h.step === step && (h.identifier === undefined || identifiers.some((i) => i.value === h.identifier)));
    if (index === -1) return;
    const [held] = this.#holds.splice(index, 1);
    await held!.arrive();
  }

  #url(kind: string): string {
    return `${this.#base}/${kind}/${++this.#next}`;
  }

  #client(accountKeyPem: string, knownAccountUrl: string | undefined): CaClient {
    const directory: AcmeDirectory = { newNonce: `${this.#base}/nonce`, newAccount: `${this.#base}/account`, newOrder: `${this.#base}/order` };
    let accountUrl = knownAccountUrl;
    const account = (): string => {
      if (!accountUrl) throw new Error('the scripted CA was asked about an order before the account was known');
      return accountUrl;
    };
    const orderOf = (url: string): Order => {
      const order = this.#orders.get(url);
      if (!order) throw new Error(`the scripted CA has no order ${url}`);
      return order;
    };
    const client = {
      directoryUrl: this.directoryUrl,
      directory,
      termsOfService: undefined,
      requiresExternalAccount: false,
      supportsKeyChange: false,
      registerAccount: async (): Promise<{ url: string; status: string }> => {
        await this.#step('newAccount', []);
        accountUrl = this.#url('account');
        return { url: accountUrl, status: 'valid' };
      },
      newOrder: async (identifiers: readonly Identifier[]): Promise<AcmeOrder> => {
        account();
        await this.#step('newOrder', identifiers);
        const order: Order = { url: this.#url('order'), identifiers: [...identifiers], authorizations: [], finalized: false };
        for (const identifier of identifiers) {
          const authorization: Authorization = { url: this.#url('authz'), identifier, order, token: randomBytes(16).toString('base64url'), accountKeyPem, status: 'pending' };
          this.#authorizations.set(authorization.url, authorization);
          order.authorizations.push(authorization.url);
        }
        this.#orders.set(order.url, order);
        return this.#orderView(order);
      },
      getOrder: async (url: string): Promise<PollResult<AcmeOrder>> => ({ value: this.#orderView(orderOf(url)) }),
      getAuthorization: async (url: string): Promise<PollResult<AcmeAuthorization>> => {
        const authorization = this.#authorizations.get(url);
        if (!authorization) throw new Error(`the scripted CA has no authorization ${url}`);
        return { value: this.#authorizationView(authorization) };
      },
      respondToChallenge: async (url: string): Promise<void> => {
        const authorization = this.#authorizations.get(url.replace('/challenge/', '/authz/'));
        if (!authorization) throw new Error(`the scripted CA has no challenge ${url}`);
        await this.#step('challenge', [authorization.identifier]);
        // What a CA fetching http://<name>/.well-known/acme-challenge/<token> would find.
        const served = this.solver.answerFor(authorization.identifier.value, authorization.token);
        authorization.status = served === keyAuthorization(authorization.token, authorization.accountKeyPem) ? 'valid' : 'invalid';
      },
      finalize: async (view: AcmeOrder, csrDer: Uint8Array): Promise<PollResult<AcmeOrder>> => {
        const order = orderOf(view.url);
        await this.#step('finalize', order.identifiers);
        if (this.#orderView(order).status !== 'ready') throw new Error(`the scripted CA was asked to finalize the order ${order.url}, which is not ready`);
        const pem = leafForCsr(csrDer, {
          dns: order.identifiers.filter((i) => i.type === 'dns').map((i) => i.value),
          ip: order.identifiers.filter((i) => i.type === 'ip').map((i) => i.value),
          issuer: this.authority,
        });
        order.finalized = true;
        order.certificateUrl = this.#url('certificate');
        this.#certificates.set(order.certificateUrl, pem + this.authority.pem);
        return { value: this.#orderView(order) };
      },
      downloadCertificate: async (url: string): Promise<DownloadedCertificate> => {
        const pem = this.#certificates.get(url);
        if (!pem) throw new Error(`the scripted CA has no certificate ${url}`);
        const order = [...this.#orders.values()].find((o) => o.certificateUrl === url)!;
        await this.#step('download', order.identifiers);
        return { pem, alternates: [] };
      },
    };
    // The client is a plain object: CaClient's constructor is private and signs real requests.
    return client as unknown as CaClient;
  }

  #orderView(order: Order): AcmeOrder {
    const authorizations = order.authorizations.map((url) => this.#authorizations.get(url)!);
    const status: AcmeStatus = authorizations.some((a) => a.status === 'invalid')
      ? 'invalid'
      : order.finalized
        ? 'valid'
        : authorizations.every((a) => a.status === 'valid')
          ? 'ready'
          : 'pending';
    return {
      url: order.url,
      status,
      identifiers: order.identifiers,
      authorizations: order.authorizations,
      finalize: `${order.url}/finalize`,
      ...(order.certificateUrl ? { certificate: order.certificateUrl } : {}),
    };
  }

  #authorizationView(authorization: Authorization): AcmeAuthorization {
    const challengeUrl = authorization.url.replace('/authz/', '/challenge/');
    return {
      url: authorization.url,
      status: authorization.status,
      identifier: authorization.identifier,
      challenges: [{ type: 'http-01', url: challengeUrl, status: authorization.status, token: authorization.token }],
    };
  }
}

/** Keeps presented HTTP-01 answers in memory, where the scripted CA looks them up to validate. */
export class ScriptedSolver implements Http01Solver {
  readonly description = "the scripted CA's in-memory answers";
  readonly #answers = new Map<string, string>();

  async present(challenge: Http01Challenge): Promise<void> {
    this.#answers.set(`${challenge.identifier} ${challenge.token}`, challenge.keyAuthorization);
  }

  async cleanUp(challenge: Http01Challenge): Promise<void> {
    this.#answers.delete(`${challenge.identifier} ${challenge.token}`);
  }

  async close(): Promise<void> {}

  answerFor(identifier: string, token: string): string | undefined {
    return this.#answers.get(`${identifier} ${token}`);
  }

  /** How many answers are still presented (none once every order cleaned up). */
  get presented(): number {
    return this.#answers.size;
  }
}
