import type { CaOffer } from '../../acme/ca-offer.js';
import type { PortAvailability } from '../../challenge/port-check.js';
import type { HookCommands } from '../../deploy/hooks.js';
import type { Store } from '../../store/store.js';
import { readAllCertificates, readCertificate } from '../certificate-list.js';
import { exportDirectoryOf } from '../certificate-record.js';
import type { CertificateRecord } from '../certificate-record.js';
import { checkCaDirectory } from './ca-directory.js';
import type { CaReading, DirectoryReader } from './ca-directory.js';
import type { Check } from './check.js';
import { checkClock } from './clock.js';
import { checkHooksRunnable } from './hooks-runnable.js';
import { checkHttpPort } from './http-port.js';
import { checkOutDirWritable } from './out-dir-writable.js';
import { checkStoreWritable } from './store-writable.js';
import type { StoreTarget } from './store-writable.js';
import { checkServeAnswers } from './serve-answers.js';
import { checkWebrootServed } from './webroot-served.js';
import type { WebrootProber } from './webroot-served.js';

/** This machine's settings, checked when no certificate is named. */
export interface MachineSettings {
  server: string;
  preset: string | null;
  httpPort: number;
  httpAddresses: string[];
  /** Hooks of the configuration and environment (they run with every renew). */
  hooks: HookCommands;
}

export interface DoctorRequest {
  /** Certificates to check; empty: every stored certificate and the machine's own checks. */
  names: string[];
  machine: MachineSettings;
  /** The --ca-bundle given now; else the one stored with each certificate. */
  caBundlePem: string | null;
  /** This host's export directory for certificates stored without --out. */
  defaultExportDir: string;
}

export interface DoctorDependencies {
  store: StoreTarget;
  readDirectory: DirectoryReader;
  probeWebroot: WebrootProber;
  bindPort?: (port: number, addresses: readonly string[]) => Promise<PortAvailability>;
  env?: { PATH?: string | undefined };
  now?: () => Date;
}

export interface DoctorReport {
  checks: Check[];
  /** What each CA checked offers. */
  cas: CaOffer[];
}

/**
 * `acmectl doctor` (docs/cli.md#doctor): what usually goes wrong before it costs a rate limit. Without names: the
 * store, the CA and the clock, this machine's HTTP port, hooks and export directory, then every stored
 * certificate. With names: those certificates, and the CAs they renew from. Each check is a file of its own here.
 */
export async function runDoctor(request: DoctorRequest, deps: DoctorDependencies): Promise<DoctorReport> {
  const now = deps.now ?? (() => new Date());
  const general = request.names.length === 0;
  const checks: Check[] = [];
  let store: Store | null = null;
  if (general) {
    const stored = await checkStoreWritable(deps.store);
    checks.push(stored.check);
    store = stored.store;
  } else {
    store = await deps.store.open(); // the named certificates are read from it; failing to open is the error
  }
  // An unknown name is wrong input (exit 2), said before anything else is checked.
  const records: CertificateRecord[] = general ? (store ? await readAllCertificates(store) : []) : await Promise.all(request.names.map((name) => readCertificate(store!, name)));

  const readings = new Map<string, CaReading>();
  const readCa = async (server: string, preset: string | null, bundle: string | null): Promise<CaReading> => {
    let reading = readings.get(server);
    if (!reading) {
      reading = await checkCaDirectory(server, preset, request.caBundlePem ?? bundle, deps.readDirectory, now);
      readings.set(server, reading);
    }
    return reading;
  };
  const servers = [...(general ? [{ server: request.machine.server, preset: request.machine.preset, bundle: null }] : []), ...records.map((r) => ({ server: r.settings.server, preset: null, bundle: r.settings.caBundlePem }))];
  for (const { server, preset, bundle } of servers) {
    if (!readings.has(server)) checks.push((await readCa(server, preset, bundle)).check);
  }
  const dated = [...readings.values()].find((r) => r.serverDate !== null) ?? [...readings.values()].find((r) => r.offer !== null);
  if (dated) checks.push(checkClock(dated.offer?.server ?? 'the CA', dated.serverDate, dated.readAt));

  if (general) {
    const { httpPort, httpAddresses, hooks } = request.machine;
    const standaloneExpected = records.length === 0 || records.some((r) => r.settings.challenge === 'standalone' && r.settings.httpPort === httpPort);
    checks.push(await checkHttpPort({ port: httpPort, addresses: httpAddresses, certificate: null, standaloneExpected }, deps.bindPort));
    const hookCheck = await checkHooksRunnable(hooks, null, deps.env);
    if (hookCheck) checks.push(hookCheck);
    checks.push(await checkOutDirWritable(request.defaultExportDir, null));
  }

  for (const record of records) checks.push(...(await checkCertificate(record, request, deps, store)));
  return { checks, cas: [...readings.values()].flatMap((r) => (r.offer ? [r.offer] : [])) };
}

/** How a certificate answers challenges, its hooks and its export directory. `store` holds the record. */
async function checkCertificate(record: CertificateRecord, request: DoctorRequest, deps: DoctorDependencies, store: Store | null): Promise<Check[]> {
  const { settings, name } = record;
  const checks: Check[] = [];
  if (settings.challenge === 'standalone') {
    const addresses = settings.httpAddress ? settings.httpAddress.split(',') : [];
    checks.push(await checkHttpPort({ port: settings.httpPort, addresses, certificate: { name, preHook: settings.hooks.pre }, standaloneExpected: true }, deps.bindPort));
  }
  if (settings.challenge === 'webroot' && settings.webroot !== null) {
    checks.push(await checkWebrootServed(name, settings.webroot, record.identifiers.map((i) => i.value), settings.httpPort, deps.probeWebroot));
  }
  if (settings.challenge === 'store' && store) {
    checks.push(await checkServeAnswers(name, store, record.identifiers.map((i) => i.value), settings.httpPort, deps.probeWebroot));
  }
  const hookCheck = await checkHooksRunnable(settings.hooks, name, deps.env);
  if (hookCheck) checks.push(hookCheck);
  checks.push(await checkOutDirWritable(exportDirectoryOf(settings, request.defaultExportDir), name));
  return checks;
}
