import { createPrivateKey } from 'node:crypto';
import type { KeyType } from '../../domain/choices.js';
import type { RenewalSettings } from '../../core/certificate-record.js';
import { confBoolean, confList, confString } from './renewal-conf.js';
import type { ConfSection } from './renewal-conf.js';

/** certbot's default CA when a renewal configuration names none. */
export const CERTBOT_DEFAULT_SERVER = 'https://acme-v02.api.letsencrypt.org/directory';
const LETS_ENCRYPT_V1 = 'https://acme-v01.api.letsencrypt.org/directory';

/** What a certbot renewal configuration says that acmectl keeps with the certificate. */
export type MappedSettings = Pick<RenewalSettings, 'server' | 'challenge' | 'httpPort' | 'httpAddress' | 'webroot' | 'keyType' | 'hooks' | 'preferredChain'>;

export type RenewalMapping =
  /** `notes`: what certbot did that acmectl will not do for this certificate. `accountId`: certbot's account folder name. */
  | { ok: true; settings: MappedSettings; accountId: string; notes: string[] }
  | { ok: false; reason: string };

/**
 * Maps the `[renewalparams]` of renewal/NAME.conf to acmectl's renewal settings, or says why it cannot:
 * only the standalone and webroot authenticators answer HTTP-01 the way acmectl does. `domains` are the
 * certificate's names (the webroot map is looked up for each); `currentKeyPem` gives the key type when the
 * configuration names none (certbot keeps a lineage's key type then).
 */
export function mapRenewalConf(conf: ConfSection, domains: readonly string[], currentKeyPem: string): RenewalMapping {
  const params = conf.sections['renewalparams']?.values;
  if (!params) return { ok: false, reason: 'its renewal configuration has no [renewalparams] section' };
  const challenge = mapAuthenticator(confString(params, 'authenticator'));
  if (!challenge.ok) return challenge;
  // certbot renews lineages that still name Let's Encrypt's retired ACMEv1 directory from its default (v2).
  const named = confString(params, 'server');
  const server = named === null || named === LETS_ENCRYPT_V1 ? CERTBOT_DEFAULT_SERVER : named;
  if (!/^https:\/\/[^/]/.test(server)) return { ok: false, reason: `its server "${server}" is not an https directory URL` };
  const accountId = confString(params, 'account');
  if (!accountId) return { ok: false, reason: 'its renewal configuration names no account' };
  const httpPort = Number(confString(params, 'http01_port') ?? 80);
  if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) return { ok: false, reason: `its http01_port "${confString(params, 'http01_port')}" is not a port` };
  const webroot = challenge.method === 'webroot' ? webrootOf(params, conf.sections['renewalparams']!.sections['webroot_map']?.values ?? {}, domains) : { ok: true as const, path: null };
  if (!webroot.ok) return webroot;
  const keyType = keyTypeOf(params, currentKeyPem);
  if (!keyType.ok) return keyType;
  return {
    ok: true,
    accountId,
    settings: {
      server,
      challenge: challenge.method,
      httpPort,
      httpAddress: confString(params, 'http01_address'),
      webroot: webroot.path,
      keyType: keyType.type,
      // certbot writes --deploy-hook as renew_hook.
      hooks: { pre: confString(params, 'pre_hook'), post: confString(params, 'post_hook'), deploy: confString(params, 'deploy_hook') ?? confString(params, 'renew_hook'), failure: null },
      preferredChain: confString(params, 'preferred_chain'),
    },
    notes: notesOf(conf),
  };
}

function mapAuthenticator(authenticator: string | null): { ok: true; method: 'standalone' | 'webroot' } | { ok: false; reason: string } {
  if (authenticator === 'standalone' || authenticator === 'webroot') return { ok: true, method: authenticator };
  if (authenticator === null) return { ok: false, reason: 'its renewal configuration names no authenticator' };
  if (authenticator.startsWith('dns-') || authenticator.includes('dns')) {
    return { ok: false, reason: `authenticator ${authenticator} answers DNS-01 challenges; acmectl answers HTTP-01 only (standalone or webroot)` };
  }
  if (authenticator === 'manual') {
    return { ok: false, reason: 'authenticator manual: someone (or a script) answered each challenge by hand; acmectl answers HTTP-01 itself (standalone or webroot)' };
  }
  if (authenticator === 'nginx' || authenticator === 'apache') {
    return { ok: false, reason: `authenticator ${authenticator}: certbot answered through its ${authenticator} plugin; issue it again with acmectl issue --webroot DIR (or --standalone)` };
  }
  return { ok: false, reason: `authenticator ${authenticator} is not one acmectl can take over (it takes over standalone and webroot)` };
}

/**
 * The one webroot of the certificate: acmectl keeps one directory per certificate, so names mapped to
 * different directories cannot be taken over. A name missing from `[[webroot_map]]` uses `webroot_path`.
 */
function webrootOf(params: ConfSection['values'], map: ConfSection['values'], domains: readonly string[]): { ok: true; path: string } | { ok: false; reason: string } {
  const fallback = confList(params, 'webroot_path');
  const paths = new Set<string>();
  for (const domain of domains) {
    const mapped = confString(map, domain);
    if (mapped !== null) paths.add(mapped);
    else for (const path of fallback) paths.add(path);
  }
  if (domains.length === 0) for (const path of fallback) paths.add(path);
  if (paths.size === 0) return { ok: false, reason: 'authenticator webroot without a webroot path' };
  if (paths.size > 1) return { ok: false, reason: `its names are served from ${paths.size} webroots (${[...paths].join(', ')}); acmectl keeps one webroot per certificate: issue it again per webroot` };
  return { ok: true, path: [...paths][0]! };
}

const CURVES: Record<string, KeyType> = { secp256r1: 'ec256', prime256v1: 'ec256', 'P-256': 'ec256', secp384r1: 'ec384', 'P-384': 'ec384' };
const RSA_SIZES: Record<number, KeyType> = { 2048: 'rsa2048', 3072: 'rsa3072', 4096: 'rsa4096' };

/** `key_type` with `elliptic_curve` or `rsa_key_size`; without key_type, the type of the lineage's current key. */
function keyTypeOf(params: ConfSection['values'], currentKeyPem: string): { ok: true; type: KeyType } | { ok: false; reason: string } {
  const kind = confString(params, 'key_type');
  if (kind === 'ecdsa') {
    const curve = confString(params, 'elliptic_curve') ?? 'secp256r1';
    const type = CURVES[curve];
    return type ? { ok: true, type } : { ok: false, reason: `its key type ecdsa ${curve} is not one acmectl makes (ec256, ec384, rsa2048, rsa3072, rsa4096)` };
  }
  if (kind === 'rsa') {
    const size = Number(confString(params, 'rsa_key_size') ?? 2048);
    const type = RSA_SIZES[size];
    return type ? { ok: true, type } : { ok: false, reason: `its key type rsa ${size} is not one acmectl makes (rsa2048, rsa3072, rsa4096, ec256, ec384)` };
  }
  if (kind !== null) return { ok: false, reason: `its key_type "${kind}" is not one acmectl knows` };
  const type = keyTypeOfPem(currentKeyPem);
  return type ? { ok: true, type } : { ok: false, reason: 'its current key is of a type acmectl does not make (ec256, ec384, rsa2048, rsa3072, rsa4096)' };
}

/** The acmectl key type of a private key, or null when acmectl makes no such key. */
export function keyTypeOfPem(keyPem: string): KeyType | null {
  try {
    const key = createPrivateKey(keyPem);
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'ec') return CURVES[details.namedCurve ?? ''] ?? null;
    if (key.asymmetricKeyType === 'rsa') return RSA_SIZES[details.modulusLength ?? 0] ?? null;
  } catch {
    // unreadable: no type
  }
  return null;
}

/** certbot behaviours that do not carry over, said so that nobody relies on them silently. */
function notesOf(conf: ConfSection): string[] {
  const params = conf.sections['renewalparams']!.values;
  const notes: string[] = [];
  const renewBefore = confString(conf.values, 'renew_before_expiry');
  if (renewBefore) notes.push(`renew_before_expiry = ${renewBefore} is not kept: acmectl renews in the CA's renewal window (ARI), else when a third of the lifetime is left (renew --days N to change it)`);
  if (confBoolean(params, 'reuse_key')) notes.push('reuse_key is not kept: acmectl makes a new key at every renewal');
  if (confBoolean(params, 'must_staple')) notes.push('must_staple is not kept: acmectl does not ask for the OCSP must-staple extension');
  if (confBoolean(params, 'autorenew') === false) notes.push('certbot did not renew it automatically (autorenew = False); acmectl renew will');
  const installer = confString(params, 'installer');
  if (installer && installer !== 'null') notes.push(`installer ${installer}: certbot pointed ${installer} at certbot's files; point it at acmectl's files`);
  return notes;
}
