// Hand-written declarations for pebble.js (plain ESM JavaScript shared by tests and `npm run demo`).
// Keep in sync with the JSDoc in pebble.js.

import type { ChildProcess } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';

export type LogFn = (line: string) => void;

/** Pebble's example External Account Binding keys: key id -> base64url HMAC key. */
export declare const PEBBLE_EAB_KEYS: Readonly<{ 'kid-1': string; 'kid-2': string }>;

/** Full path of `command` on PATH (then `extraDirs`), or undefined. */
export declare function findExecutable(command: string, extraDirs?: string[]): Promise<string | undefined>;

/** Runs a command to completion; never throws for a non-zero exit. Output is bounded. */
export declare function runCommand(
  command: string,
  args: string[],
  options?: { env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<{ code: number | null; output: string }>;

/**
 * Guarantees every command is executable afterwards: installs `aptPackage` with apt-get when
 * running as root (apt-get update + retry once on failure), otherwise throws an Error whose
 * message ends with `manualInstructions`.
 */
export declare function ensureCommandsInstalled(spec: {
  commands: string[];
  aptPackage: string;
  manualInstructions: string;
  extraDirs?: string[];
  log?: LogFn;
}): Promise<void>;

/** Guarantees `pebble` and `pebble-challtestsrv` are on PATH, or throws saying what to install. */
export declare function ensurePebbleInstalled(options?: { log?: LogFn }): Promise<void>;

/** Guarantees `openssl` is on PATH, or throws saying what to install. */
export declare function ensureOpensslInstalled(options?: { log?: LogFn }): Promise<void>;

/** The Pebble release startPebble({ version: 'ari' }) runs: Debian unstable's pebble 2.10.x. */
export declare const PEBBLE_ARI_VERSION_PREFIX: '2.10';

/** `${XDG_CACHE_HOME:-~/.cache}/acmectl-test/pebble-2.10`: where Pebble 2.10 is unpacked (shared by every clone). */
export declare function pebbleAriInstallDir(env?: NodeJS.ProcessEnv): string;

export interface PebbleAriInstall {
  /** The unpacked package: usr/bin/pebble, usr/share/doc/pebble/, ... */
  dir: string;
  /** The pebble binary. */
  pebble: string;
  /** The Debian package version, e.g. 2.10.0+ds1-2. */
  packageVersion: string;
  /** True when this call downloaded it, false when it was already there. */
  fetched: boolean;
}

/**
 * Makes sure Pebble 2.10 is unpacked in `installDir` (default pebbleAriInstallDir()): the first call downloads
 * Debian unstable's package with apt-get download and a private apt state (nothing is installed) and unpacks it
 * with dpkg-deb. Safe for concurrent callers in many processes (one downloads, under flock(1)). Throws, saying
 * why, when the download fails or unstable no longer offers a 2.10.x.
 */
export declare function ensurePebbleAri(options?: { installDir?: string; log?: LogFn }): Promise<PebbleAriInstall>;

/** The download itself; only for scripts/fetch-pebble.js, which runs it while flock(1) holds the lock. */
export declare function fetchPebbleAriHoldingLock(installDir: string, log?: LogFn): Promise<{ fetched: boolean; packageVersion: string }>;

/** A TCP port that was free on `host` (default 127.0.0.1) a moment ago, below the ephemeral range (20000-32767). */
export declare function freePort(host?: string): Promise<number>;

/** A port that was free for both UDP and TCP on `host` (default 127.0.0.1) a moment ago. */
export declare function freeDnsPort(host?: string): Promise<number>;

/**
 * A long-running child with bounded in-memory output capture, killed when this process exits.
 */
export declare class ManagedProcess {
  constructor(
    name: string,
    command: string,
    args: string[],
    options?: { cwd?: string; env?: NodeJS.ProcessEnv; exitSignal?: NodeJS.Signals },
  );
  readonly name: string;
  readonly commandLine: string;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  readonly exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly spawnError: Error | undefined;
  /** Resolves once the process has exited (or failed to spawn). */
  readonly exited: Promise<void>;
  /** Resolves once the process has exited and its output pipes are drained. */
  readonly closed: Promise<void>;
  readonly running: boolean;
  drainOutput(maxMs?: number): Promise<void>;
  outputTail(count?: number): string;
  describeExit(): string;
  report(lineCount?: number): string;
  killNow(): void;
  /** Resolves once the process has exited: SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** The User-Agent the harness's own requests send (Pebble 2.10 refuses requests without one). */
export declare const HARNESS_USER_AGENT: string;

/**
 * A request over http/https (GET unless `method` says otherwise); https verifies against `ca` when given (never
 * disabled). Sends User-Agent: HARNESS_USER_AGENT unless `headers` has one.
 */
export declare function requestText(
  url: string,
  options?: { ca?: string | Buffer; timeoutMs?: number; method?: string; body?: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>;

/** Polls `probe` until true; rejects with the process's report if it exits or the deadline passes. */
export declare function waitUntilServing(spec: {
  probe: () => Promise<boolean>;
  process: ManagedProcess;
  what: string;
  deadlineMs?: number;
}): Promise<void>;

/** Writes a throwaway EC P-256 CA and a localhost server certificate (DNS:localhost, IP:127.0.0.1, IP:::1). */
export declare function generateLocalhostCertificates(
  dir: string,
): Promise<{ caCertPath: string; serverCertPath: string; serverKeyPath: string }>;

/** A certificate profile of Pebble 2.10 (config "pebble.profiles"; the directory's meta.profiles). */
export interface PebbleProfile {
  /** What the directory's meta.profiles says about it. */
  description: string;
  /** Lifetime of its certificates, in seconds. */
  validityPeriod: number;
}

/**
 * The profiles version 'ari' configures by default, like Let's Encrypt's: "classic" (90 days) and "shortlived"
 * (160 hours). Pebble 2.10 gives an order that names no profile one of them at random: tests that depend on the
 * lifetime name the profile, or configure a single one.
 */
export declare const DEFAULT_ARI_PROFILES: Readonly<Record<string, Readonly<PebbleProfile>>>;

/** What setRenewalInfo makes Pebble answer for a certificate. */
export interface RenewalWindow {
  /** A Date is sent as RFC 3339 in UTC, whole seconds; a string as it is (to test clients with odd values). */
  start: Date | string;
  end: Date | string;
  explanationURL?: string;
}

/** What Pebble's renewalInfo resource answered for a certificate. */
export interface RenewalInfoAnswer {
  status: number;
  /** The Retry-After header. */
  retryAfter: string | undefined;
  suggestedWindow: { start: string; end: string } | undefined;
  explanationURL: string | undefined;
  body: string;
}

/**
 * Throws unless `directory` offers renewalInfo and meta.profiles with every name in `profileNames` (what
 * startPebble({ version: 'ari' }) checks at start-up); `where` names the CA in the message.
 */
export declare function assertAriDirectory(directory: unknown, profileNames: string[], where: string): void;

/** The certificate's ARI CertID (RFC 9773 4.1): base64url(AKI keyIdentifier) "." base64url(DER serial). First certificate of the PEM. */
export declare function ariCertId(certificatePem: string): string;

export interface StartPebbleOptions {
  /**
   * 'stable' (default): Debian stable's Pebble 2.4 from PATH, a CA without ARI or profiles.
   * 'ari': Pebble 2.10 from Debian unstable (fetched into the cache by ensurePebbleAri), with renewalInfo and
   * profiles; start-up fails unless its directory offers both.
   */
  version?: 'stable' | 'ari';
  /** With version 'ari': the profiles to configure (default DEFAULT_ARI_PROFILES). Refused with 'stable'. */
  profiles?: Record<string, PebbleProfile>;
  /** Require External Account Binding, accepting PEBBLE_EAB_KEYS. */
  eab?: boolean;
  /** Extra environment for pebble, e.g. { PEBBLE_WFE_NONCEREJECT: '0' }. */
  env?: Record<string, string>;
  /** Port Pebble's VA connects to (on 127.0.0.1) for HTTP-01. Default: a free port. */
  httpPort?: number;
  /** Extra keys merged into the "pebble" config object (e.g. certificateValidityPeriod, in seconds). */
  config?: Record<string, unknown>;
  /** Progress notes (e.g. when installing Pebble). Default: stderr. */
  log?: LogFn;
}

export interface PebbleHandle {
  /** Which Pebble runs: 'stable' (2.4) or 'ari' (2.10). */
  version: 'stable' | 'ari';
  /** https://localhost:<port>/dir — the host name matches Pebble's HTTPS certificate. */
  directoryUrl: string;
  /** The directory's renewalInfo URL (version 'ari'; undefined for 'stable'). */
  renewalInfoUrl: string | undefined;
  /** The profiles Pebble was configured with ({} for 'stable'). */
  profiles: Readonly<Record<string, PebbleProfile>>;
  /** PEM of the CA that signed Pebble's HTTPS certificate (pass as acmectl --ca-bundle). */
  caBundlePath: string;
  /** https://127.0.0.1:<port>, Pebble's management interface (same HTTPS CA). */
  managementUrl: string;
  /** Port on 127.0.0.1 where Pebble's VA sends HTTP-01 validation requests. */
  httpPort: number;
  /** Port where Pebble's VA would connect for TLS-ALPN-01. */
  tlsPort: number;
  /** pebble-challtestsrv's DNS port (UDP+TCP) on 127.0.0.1; every A query answers 127.0.0.1. */
  dnsPort: number;
  /** 127.0.0.1:<dnsPort> */
  dnsServer: string;
  /** http://127.0.0.1:<port>, pebble-challtestsrv's management API. */
  challtestsrvManagementUrl: string;
  /** Temporary directory holding config and certificates; removed by stop(). */
  dir: string;
  configPath: string;
  pids: { pebble: number | undefined; challtestsrv: number | undefined };
  /** GET <managementUrl>/roots/0: the root that signs issued certificates (PEM). */
  rootCertificatePem(): Promise<string>;
  /** GET <managementUrl>/intermediates/0 (PEM). */
  intermediateCertificatePem(): Promise<string>;
  /**
   * Version 'ari': from now on Pebble answers `window` as the renewalInfo of this certificate (POST
   * <managementUrl>/set-renewal-info/; found by serial; a full chain is fine). Throws on anything but 200,
   * e.g. 404 for a certificate another Pebble issued.
   */
  setRenewalInfo(certificatePem: string, window: RenewalWindow): Promise<void>;
  /** Version 'ari': GET <renewalInfoUrl>/<ariCertId(certificatePem)>, as an ACME client asks. */
  renewalInfo(certificatePem: string): Promise<RenewalInfoAnswer>;
  /** Command lines, status and last output lines of both processes, for failure messages. */
  logs(lineCount?: number): string;
  /** Kills both processes (SIGTERM, then SIGKILL), waits for exit, removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts pebble-challtestsrv and Pebble (Debian stable's 2.4, or 2.10 with version 'ari') on free loopback
 * ports; resolves once Pebble's directory answers over verified HTTPS (with version 'ari': and offers
 * renewalInfo and the configured profiles).
 */
export declare function startPebble(options?: StartPebbleOptions): Promise<PebbleHandle>;
