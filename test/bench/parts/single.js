// One certificate, fresh process, account already registered, a fresh name each run: acmectl against uacme,
// certbot and lego (and the bare acme-client floor), all answering through the same webroot; acmectl's own
// standalone server as an extra row. Runs are interleaved round by round, so that a machine that slows down
// midway slows every client alike.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acmectl, bareAcmeClient, EMAIL, pebbleOptions } from '../lib/acmectl.js';
import { expectSuccess, runSpec, runTimed } from '../lib/child.js';
import { PEERS } from '../lib/peers.js';

/**
 * @param {{ results: import('../lib/report.js').Results, pebble: import('../../../scripts/lib/pebble.js').PebbleHandle,
 *   root: string, runs: number, webroot: string, server: { start(): Promise<void>, stop(): Promise<void> }, log: (line: string) => void }} context
 */
export async function singlePart({ results, pebble, root, runs, webroot, server, log }) {
  const part = 'one certificate';
  const home = join(root, 'single-acmectl');
  mkdirSync(home, { recursive: true });
  const issue = (name, how) => acmectl(['issue', name, ...how, '--email', EMAIL, ...pebbleOptions(pebble)], home);
  const webrootHow = ['--webroot', webroot];
  const standaloneHow = ['--standalone', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
  const acmectlCertificate = (name) => join(home, 'live', name, 'cert.pem');
  const peerIds = Object.keys(PEERS);

  /** @type {Array<{ row: import('../lib/report.js').Row, command: (name: string) => { command: string, args: string[], env: Record<string, string> }, certificate: (name: string) => string, ownsPort?: boolean, node?: boolean, optional?: boolean }>} */
  const contestants = [
    {
      row: results.add({ id: 'single-acmectl-webroot', part, what: 'acmectl issue --webroot (Node)', compare: [{ against: 'uacme', limit: 0.8 }, { against: 'certbot', limit: 0.1 }, { against: 'lego' }] }),
      command: (name) => issue(name, webrootHow),
      certificate: acmectlCertificate,
      node: true,
    },
    {
      row: results.add({ id: 'single-acmectl-standalone', part, what: 'acmectl issue --standalone (its own server on the port)', compare: peerIds.map((against) => ({ against })) }),
      command: (name) => issue(name, standaloneHow),
      certificate: acmectlCertificate,
      ownsPort: true,
      node: true,
    },
    {
      row: results.add({ id: 'single-bare', part, what: 'bare acme-client script, 1 name (floor)', label: 'the bare script' }),
      command: (name) => bareAcmeClient(pebble, { webroot, accountFile: join(root, 'single-bare-account.json'), concurrency: 1, names: [name], home: root }),
      certificate: () => '',
      node: true,
    },
  ];

  // acmectl's account, registered before anything is timed.
  await server.start();
  expectSuccess('acmectl issue (registering the account)', await runSpec(acmectl(['issue', 'account.acmectl.bench.test', ...webrootHow, '--agree-tos', '--email', EMAIL, ...pebbleOptions(pebble)], home)));

  let wrapperRow;
  for (const id of peerIds) {
    const dir = join(root, `single-${id}`);
    mkdirSync(dir, { recursive: true });
    try {
      await PEERS[id].install();
      const peer = await PEERS[id].setUp({ dir, pebble, webroot });
      contestants.push({ row: results.add({ id: peer.id, part, what: peer.what, label: peer.label }), command: peer.issueCommand, certificate: peer.certificatePath, optional: true });
      if ('wrapperCommand' in peer) {
        const wrapper = /** @type {{ wrapperCommand: () => any }} */ (peer).wrapperCommand;
        wrapperRow = { row: results.add({ id: 'uacme-wrapper', part, what: "uacme's CA-trust wrapper alone (unshare, sh, mount; included in uacme's time)" }), command: wrapper };
      }
    } catch (error) {
      results.add({ id, part, what: id, label: id, missing: firstLine(error) });
      log(`${id}: missing (${firstLine(error)})`);
    }
  }

  // A warm-up run each (file caches, the CA's first order for the account), then interleaved timed rounds.
  const live = [];
  for (const contestant of contestants) {
    try {
      await runOne(contestant, `warm.${contestant.row.id}.bench.test`, server);
      live.push(contestant);
    } catch (error) {
      if (!contestant.optional) throw error;
      contestant.row.missing = `does not work here: ${firstLine(error)}`;
      log(`${contestant.row.id}: ${contestant.row.missing}`);
    }
  }
  for (let round = 0; round < runs; round++) {
    log(`one certificate: round ${round + 1} of ${runs}`);
    const order = live.map((_, index) => live[(index + round) % live.length]);
    for (const contestant of order) {
      if (contestant.row.missing) continue;
      try {
        const result = await runOne(contestant, `r${round + 1}.${contestant.row.id}.bench.test`, server);
        contestant.row.samples.push(result.ms);
        if (result.peakKiB !== null) contestant.row.peaksKiB.push(result.peakKiB);
      } catch (error) {
        if (!contestant.optional) throw error;
        contestant.row.missing = `failed in round ${round + 1}: ${firstLine(error)}`;
        contestant.row.samples = [];
      }
    }
    if (wrapperRow) wrapperRow.row.samples.push(expectSuccess('the uacme wrapper', await runSpec(wrapperRow.command())).ms);
  }
}

async function runOne(contestant, name, server) {
  if (contestant.ownsPort) await server.stop();
  try {
    const { command, args, env } = contestant.command(name);
    const result = expectSuccess(`${contestant.row.what} for ${name}`, await runTimed(command, args, { env, peakMemory: contestant.node === true }));
    const certificate = contestant.certificate(name);
    if (certificate && !existsSync(certificate)) throw new Error(`${contestant.row.what} exited 0 but wrote no ${certificate}`);
    return result;
  } finally {
    if (contestant.ownsPort) await server.start();
  }
}


function firstLine(error) {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').filter(Boolean).slice(0, 3).join(' / ').slice(0, 300);
}
