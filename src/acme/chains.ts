import { X509Certificate } from 'node:crypto';
import { OperationError } from '../domain/errors.js';
import { commonNameOf, pemCertificateBlocks } from '../pki/pem.js';
import { visibleText } from '../domain/visible-text.js';
import type { CaClient } from './client.js';

/**
 * Certificate chains: checking what the CA sent, and choosing among the chains it offers (RFC 8555 §7.4.2:
 * the default chain, plus alternates named by `Link: <url>;rel="alternate"` on the download).
 *
 * The preferred chain is named as certbot and lego name it: by the issuer common name of the chain's topmost
 * certificate (the root it chains to: "ISRG Root X1"), matched exactly, case included. The default chain is
 * tried first, then the alternates in the order the CA lists them. Without a match the default chain is kept
 * and a warning says what was offered.
 */

/** At most this many alternate chains are downloaded for one certificate. */
export const MAX_ALTERNATE_CHAINS = 10;

export interface Chain {
  /** The certificates as PEM, leaf first, one block per certificate, each ending in a newline. */
  pem: string;
  certificates: X509Certificate[];
}

/** The chain in a PEM text. Throws (a plain Error saying what is wrong) when it holds none or one cannot be read. */
export function parseChain(pem: string): Chain {
  const blocks = pemCertificateBlocks(pem);
  if (blocks.length === 0) throw new Error('it holds no PEM certificate');
  const certificates = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(`certificate ${index + 1} of ${blocks.length} cannot be read`);
    }
  });
  return { pem: blocks.map((block) => `${block}\n`).join(''), certificates };
}

/** The issuer common name of the chain's topmost certificate: what --preferred-chain is matched against. */
export function topIssuerName(chain: Chain): string {
  return commonNameOf(chain.certificates[chain.certificates.length - 1]!.issuer);
}

/** Null when every certificate is issued and signed by the next one in the chain; otherwise what is wrong. */
export function chainLinkProblem(chain: Chain): string | null {
  const { certificates } = chain;
  const describe = (index: number): string => `certificate ${index + 1} (${visibleText(commonNameOf(certificates[index]!.subject), 200)})`;
  for (let index = 0; index + 1 < certificates.length; index++) {
    const child = certificates[index]!;
    const parent = certificates[index + 1]!;
    // checkIssued compares names (and key identifiers); verify checks the signature itself.
    if (!child.checkIssued(parent)) return `${describe(index)} was not issued by ${describe(index + 1)}`;
    let signed = false;
    try {
      signed = child.verify(parent.publicKey);
    } catch {
      signed = false;
    }
    if (!signed) return `the signature of ${describe(index)} does not verify with the key of ${describe(index + 1)}`;
  }
  return null;
}

/** An alternate chain as downloaded, or why it could not be. */
export type AlternateChain = { url: string; pem: string } | { url: string; error: string };

export interface ChainChoice {
  /** The chain to store, leaf first. */
  pem: string;
  /** Its topmost certificate's issuer common name. */
  topIssuer: string;
  /** For the user: alternates ignored, or the preferred chain not offered. */
  warnings: string[];
  /** True when the alternates were looked at (a preference the default chain does not meet). */
  consideredAlternates: boolean;
}

/**
 * Chooses the chain to store: the default one, unless `preferred` names another chain's top issuer. Alternates
 * are read from `alternates` one at a time and only while needed (the first match ends the reading). An
 * alternate is ignored, with a warning, when it cannot be read, when its leaf is not the default chain's leaf
 * (the same DER), or when its certificates do not each sign the one before. The chain chosen always passes
 * those checks: a default chain that does not is refused with an OperationError.
 */
export async function chooseChain(defaultPem: string, preferred: string | null, alternates: Iterable<AlternateChain> | AsyncIterable<AlternateChain>): Promise<ChainChoice> {
  let defaultChain: Chain;
  try {
    defaultChain = parseChain(defaultPem);
  } catch (error) {
    throw new OperationError(`the certificate chain the CA sent cannot be used: ${(error as Error).message}`);
  }
  const defaultTop = topIssuerName(defaultChain);
  const keepDefault = (warnings: string[]): ChainChoice => {
    const problem = chainLinkProblem(defaultChain);
    if (problem) {
      throw new OperationError(`the certificate chain the CA sent is broken: ${problem}; not storing it`, {
        hint: 'this is a fault of the CA: try again later, and report it to the CA if it persists',
      });
    }
    return { pem: defaultChain.pem, topIssuer: defaultTop, warnings, consideredAlternates: preferred !== null && defaultTop !== preferred };
  };
  if (preferred === null || defaultTop === preferred) return keepDefault([]);

  const warnings: string[] = [];
  const offered = [defaultTop];
  const leaf = defaultChain.certificates[0]!.raw;
  for await (const alternate of alternates) {
    const ignored = (why: string): void => void warnings.push(`ignored the alternate chain at ${visibleText(alternate.url, 300)}: ${why}`);
    if ('error' in alternate) {
      ignored(`it could not be downloaded: ${visibleText(alternate.error, 300)}`);
      continue;
    }
    let chain: Chain;
    try {
      chain = parseChain(alternate.pem);
    } catch (error) {
      ignored((error as Error).message);
      continue;
    }
    if (!chain.certificates[0]!.raw.equals(leaf)) {
      ignored('its first certificate is not the certificate the CA issued in the default chain');
      continue;
    }
    const problem = chainLinkProblem(chain);
    if (problem) {
      ignored(problem);
      continue;
    }
    const top = topIssuerName(chain);
    if (top === preferred) return { pem: chain.pem, topIssuer: top, warnings, consideredAlternates: true };
    if (!offered.includes(top)) offered.push(top);
  }
  const sameButCase = offered.find((name) => name.toLowerCase() === preferred.toLowerCase());
  warnings.push(
    `no chain offered by the CA has the issuer "${preferred}"; kept the default chain whose top issuer is "${visibleText(defaultTop, 200)}" (offered: ${offered.map((name) => `"${visibleText(name, 200)}"`).join(', ')})` +
      (sameButCase ? `; the name is matched exactly, and "${visibleText(sameButCase, 200)}" differs in case` : ''),
  );
  return keepDefault(warnings);
}

/**
 * Downloads the certificate at `url` with the chain to store: the CA's default chain, or with `preferred` set,
 * the first chain (default first) whose top issuer is `preferred`. Alternates are downloaded only with a
 * preference the default chain does not meet, one by one, at most MAX_ALTERNATE_CHAINS, and only from the
 * CA's own origin (a Link to another host is not followed with a signed request).
 */
export async function downloadChain(ca: Pick<CaClient, 'downloadCertificate'>, url: string, preferred: string | null): Promise<ChainChoice> {
  const first = await ca.downloadCertificate(url);
  const notes: string[] = [];
  const origin = new URL(url).origin;
  const sameOrigin = first.alternates.filter((alternate) => new URL(alternate).origin === origin);
  for (const alternate of first.alternates) {
    if (!sameOrigin.includes(alternate)) notes.push(`ignored the alternate chain at ${visibleText(alternate, 300)}: it is not on the CA's server (${origin})`);
  }
  if (sameOrigin.length > MAX_ALTERNATE_CHAINS) {
    notes.push(`the CA offers ${sameOrigin.length} alternate chains; only the first ${MAX_ALTERNATE_CHAINS} were considered`);
  }
  async function* alternates(): AsyncGenerator<AlternateChain> {
    for (const alternate of sameOrigin.slice(0, MAX_ALTERNATE_CHAINS)) {
      try {
        yield { url: alternate, pem: (await ca.downloadCertificate(alternate)).pem };
      } catch (error) {
        // The certificate is issued already: one alternate that fails to download must not lose it.
        yield { url: alternate, error: error instanceof Error ? error.message : String(error) };
      }
    }
  }
  const choice = await chooseChain(first.pem, preferred, alternates());
  // Notes about the links matter only when the alternates were looked at.
  return choice.consideredAlternates ? { ...choice, warnings: [...notes, ...choice.warnings] } : choice;
}
