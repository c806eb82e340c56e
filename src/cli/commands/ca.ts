import { describeOffer } from '../../acme/ca-offer.js';
import { CaClient } from '../../acme/client.js';
import { resolveCaDirectory } from '../../acme/directory-presets.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';

/** `acmectl ca [--server X]`: what a CA offers (profiles, ARI, EAB, terms), read from its directory. */
export const ca: Command = async ({ global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  const directory = resolveCaDirectory(ctx.settings.server);
  const caBundlePem = ctx.caBundlePem();
  const read = await CaClient.readDirectory({ directoryUrl: directory.url, requestTimeoutMs: ctx.settings.requestTimeout * 1000, signal: ctx.signal, ...(caBundlePem ? { caBundlePem } : {}) });
  const offer = describeOffer(directory.url, directory.preset, read);
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  const profiles = Object.entries(offer.profiles);
  reporter.result(
    { ok: true, ...offer },
    () => [
      `CA:                  ${offer.server}${offer.preset ? ` (${offer.preset})` : ''}`,
      `terms of service:    ${offer.termsOfService ?? '-'}`,
      `website:             ${offer.website ?? '-'}`,
      `CAA identities:      ${offer.caaIdentities.join(', ') || '-'}`,
      `EAB required:        ${yesNo(offer.externalAccountRequired)}`,
      `renewal info (ARI):  ${yesNo(offer.renewalInfo)}`,
      `account key change:  ${yesNo(offer.keyChange)}`,
      `revocation:          ${yesNo(offer.revocation)}`,
      `profiles:            ${profiles.length === 0 ? 'none offered' : ''}`.trimEnd(),
      ...profiles.map(([name, description]) => `  ${name}${description ? `: ${description}` : ''}`),
    ],
    { always: true },
  );
  return 0;
};
