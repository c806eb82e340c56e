import { isIP } from 'node:net';
import { UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';

/** Production and (where the CA has one) staging directories of the CAs users name most (docs/cli.md#ca-presets). */
const PRESETS = {
  letsencrypt: { url: 'https://acme-v02.api.letsencrypt.org/directory', staging: 'letsencrypt-staging' },
  'letsencrypt-staging': { url: 'https://acme-staging-v02.api.letsencrypt.org/directory', staging: 'letsencrypt-staging' },
  zerossl: { url: 'https://acme.zerossl.com/v2/DV90', staging: null },
  buypass: { url: 'https://api.buypass.com/acme/directory', staging: 'buypass-staging' },
  'buypass-staging': { url: 'https://api.test4.buypass.no/acme/directory', staging: 'buypass-staging' },
  google: { url: 'https://dv.acme-v02.api.pki.goog/directory', staging: 'google-staging' },
  'google-staging': { url: 'https://dv.acme-v02.test-api.pki.goog/directory', staging: 'google-staging' },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export interface CaDirectory {
  /** The directory URL every request starts from. */
  url: string;
  /** The preset name when one was used, for messages. */
  preset: PresetName | null;
  /** The matching staging directory (for --dry-run), or null when the CA has none. */
  stagingUrl: string | null;
}

/**
 * A URL host name on this machine (URL.hostname form: IPv6 in brackets), where plain http is tolerated:
 * localhost, ::1 and 127.0.0.0/8. The URL parser writes IPv4 addresses in dotted-decimal form ("127.1" and
 * "0x7f.0.0.1" become 127.0.0.1), so a name that merely starts with "127." (127.example.com) is no address.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/**
 * Resolves `--server` (a preset name or a directory URL). A URL must be https; plain http is accepted only
 * for a CA on this machine (a local test CA), because account keys and certificates travel over it.
 */
export function resolveCaDirectory(server: string): CaDirectory {
  const preset = PRESETS[server as PresetName];
  if (preset) {
    return { url: preset.url, preset: server as PresetName, stagingUrl: preset.staging ? PRESETS[preset.staging].url : null };
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server "${visibleText(server, 300)}" is neither a known CA nor a URL`, {
      hint: `use one of ${PRESET_NAMES.join(', ')}, or the https URL of an ACME directory`,
    });
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(`--server ${visibleText(server, 300)}: an ACME directory URL must start with https://`, {
      hint: 'plain http is accepted only for a CA on this machine (localhost, 127.0.0.0/8, ::1)',
    });
  }
  if (url.username || url.password) throw new UsageError('--server: a directory URL must not contain credentials');
  const known = Object.entries(PRESETS).find(([, p]) => p.url === url.href);
  return {
    url: url.href,
    preset: known ? (known[0] as PresetName) : null,
    stagingUrl: known && known[1].staging ? PRESETS[known[1].staging].url : null,
  };
}
