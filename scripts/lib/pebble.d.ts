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

/** A TCP port that was free on `host` (default 127.0.0.1) a moment ago. */
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

export interface StartPebbleOptions {
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
  /** https://localhost:<port>/dir — the host name matches Pebble's HTTPS certificate. */
  directoryUrl: string;
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
  /** Command lines, status and last output lines of both processes, for failure messages. */
  logs(lineCount?: number): string;
  /** Kills both processes (SIGTERM, then SIGKILL), waits for exit, removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts pebble-challtestsrv and Pebble on free loopback ports; resolves once Pebble's directory
 * answers over verified HTTPS.
 */
export declare function startPebble(options?: StartPebbleOptions): Promise<PebbleHandle>;
