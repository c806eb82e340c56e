/**
 * Export formats besides certbot's four PEM files (`--format`, docs/cli.md#exported-files):
 *
 * - `combined`: `combined.pem` = private key, then the full chain (leaf, then intermediates), one file, as HAProxy
 *   (`crt`) and some appliances want it.
 * - `pkcs12`: `certificate.p12`, a password-protected PKCS#12 (RFC 7292) file with the key, the leaf and the
 *   intermediates, for Java/Tomcat, Windows and appliances. Readable by OpenSSL 3 without `-legacy`, by Java 8u301+
 *   and 11.0.12+ (`keytool -storetype PKCS12`), and by Node's TLS (`pfx`).
 *
 * Both files hold the private key: the exporter writes them with mode 0600 into the same version directory as the
 * PEM files (see pem-export.ts), so they switch atomically with `privkey.pem`. The PKCS#12 encoder is in pkcs12.ts.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../domain/errors.js';
import type { PemFiles } from '../pki/pem-files.js';

export const EXPORT_FORMATS = ['pem', 'combined', 'pkcs12'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The environment variable holding the PKCS#12 password when `--password-file` is not given. */
export const PKCS12_PASSWORD_ENV = 'ACMECTL_PKCS12_PASSWORD';

/**
 * The formats asked for with `--format` (repeatable, and each value may be a comma-separated list; case and
 * surrounding spaces do not matter). Deduplicated and in the canonical order of {@link EXPORT_FORMATS}: 'pem' is
 * always included and first, because the PEM files are always written. UsageError for an unknown or empty value.
 */
export function parseExportFormats(list: string[]): ExportFormat[] {
  const wanted = new Set<ExportFormat>(['pem']);
  for (const value of list) {
    for (const part of value.split(',')) {
      const format = part.trim().toLowerCase();
      if (!isExportFormat(format)) {
        const alias = format === 'p12' || format === 'pfx' ? ` (for a ${format} file use "pkcs12")` : '';
        throw new UsageError(
          `unknown export format ${JSON.stringify(part.trim())}${alias}: accepted formats are ${EXPORT_FORMATS.join(', ')}`,
          { hint: 'repeat --format or give a comma-separated list, e.g. --format combined,pkcs12' },
        );
      }
      wanted.add(format);
    }
  }
  return EXPORT_FORMATS.filter((format) => wanted.has(format));
}

function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** `combined.pem`: the private key, then the full chain (leaf, then intermediates), each ending with a newline. */
export function combinedPem(files: PemFiles): string {
  return withFinalNewline(files.keyPem) + withFinalNewline(files.fullchainPem);
}

function withFinalNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * The PKCS#12 password: the first line of `--password-file FILE` (without its line ending, and without a UTF-8
 * byte-order mark) when given, else `ACMECTL_PKCS12_PASSWORD`. UsageError when the file cannot be read, when the
 * password is empty, or when neither is given. No message ever contains the password or the file's content.
 */
export function readPkcs12Password(input: { passwordFile: string | null; env: NodeJS.ProcessEnv }): string {
  const hint = `put the password in a file readable only by you (chmod 600) and pass --password-file FILE, or set ${PKCS12_PASSWORD_ENV}`;
  if (input.passwordFile !== null) {
    let text: string;
    try {
      text = readFileSync(input.passwordFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unknown error');
      throw new UsageError(`cannot read the PKCS#12 password file ${input.passwordFile}: ${reason}`, { hint, cause: error });
    }
    const password = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/, 1)[0] ?? '';
    if (password === '') {
      throw new UsageError(`the first line of the PKCS#12 password file ${input.passwordFile} is empty`, { hint });
    }
    return password;
  }
  const fromEnv = input.env[PKCS12_PASSWORD_ENV];
  if (fromEnv === undefined || fromEnv === '') {
    throw new UsageError(`PKCS#12 export needs a password: --password-file FILE or ${PKCS12_PASSWORD_ENV}`, { hint });
  }
  return fromEnv;
}
