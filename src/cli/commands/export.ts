import { resolve } from 'node:path';
import { exportCertificate } from '../../core/certificate-admin.js';
import { checkCertificateName, exportDirectoryOf } from '../../core/certificate-record.js';
import { UsageError } from '../../domain/errors.js';
import { visibleText } from '../../domain/visible-text.js';
import { parseExportFormats, readPkcs12Password } from '../../deploy/formats.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { checkPathText } from '../inputs.js';
import { openStoreHolding } from '../run-store.js';

export interface ExportOptions {
  out?: string;
  format?: string[];
  passwordFile?: string;
  version?: string;
}

/**
 * `acmectl export NAME [--out DIR] [--format pem|combined|pkcs12] [--version N]`: writes the files again,
 * elsewhere or in other formats; with --version an earlier version goes back in place (a rollback).
 */
export const exportCommand: Command<ExportOptions> = async ({ args, options, global, reporter, signal }) => {
  const name = checkCertificateName(args[0]!);
  const version = options.version === undefined ? undefined : parseVersion(options.version);
  const out = options.out === undefined ? undefined : resolve(checkPathText(options.out, '--out'));
  const ctx = await buildContext(global, {}, reporter, signal);
  const formats = options.format === undefined ? undefined : parseExportFormats(options.format);
  const passwordFile = options.passwordFile === undefined ? undefined : resolve(options.passwordFile);
  if (formats?.includes('pkcs12')) readPkcs12Password({ passwordFile: passwordFile ?? null, env: process.env });
  const store = await openStoreHolding(ctx, name);
  try {
    const { record, version: written, paths } = await exportCertificate(store, name, version, (found) => {
      const chosen = formats ?? found.settings.formats;
      return {
        outDir: out ?? exportDirectoryOf(found.settings, resolve(ctx.exportDir)),
        formats: chosen,
        pkcs12Password: () => readPkcs12Password({ passwordFile: passwordFile ?? found.settings.pkcs12PasswordFile, env: process.env }),
      };
    });
    reporter.result({ ok: true, name, version: written.version, serial: written.serial, files: paths }, () => [
      `wrote version ${written.version} of ${name} (serial ${written.serial}${written.version === record.current.version ? '' : `; the current version is ${record.current.version}`}) to ${paths.dir}`,
      ...Object.entries(paths)
        .filter(([key]) => key !== 'dir')
        .map(([key, path]) => `  ${`${key}:`.padEnd(10)} ${path as string}`),
    ]);
    return 0;
  } finally {
    await store.close();
  }
};

function parseVersion(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`--version takes a version number (see acmectl show), got "${visibleText(text, 100)}"`);
  return Number(text);
}
