import { SETTINGS, SETTING_KEYS, envName } from '../../config/settings.js';
import { redactStoreUrl } from '../../store/url-options.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { formatTable } from '../table.js';

const REDACTED = '***';

/** `acmectl config show`: the effective settings and where each came from; secrets redacted. */
export const configShow: Command = async ({ global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  const rows = SETTING_KEYS.map((key) => {
    const raw = ctx.settings[key];
    const value = raw === null ? null : 'secret' in SETTINGS[key] ? REDACTED : key === 'store' && typeof raw === 'string' ? redactStoreUrl(raw) : raw;
    return { key, value, source: ctx.sources[key], env: envName(key) };
  });
  const effective = { dataDir: ctx.dataDir, store: redactStoreUrl(ctx.storeUrl), exportDir: ctx.exportDir };
  reporter.result(
    { ok: true, configFile: ctx.configPath, ...effective, settings: Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])) },
    () => [
      `config file:  ${ctx.configPath ?? '(none found)'}`,
      `data dir:     ${effective.dataDir}`,
      `store:        ${effective.store}`,
      `export dir:   ${effective.exportDir}`,
      '',
      ...formatTable(['KEY', 'VALUE', 'FROM', 'ENVIRONMENT'], rows.map((r) => [r.key, r.value === null ? '-' : String(r.value), r.source, r.env])),
    ],
    { always: true },
  );
  return 0;
};

/** `acmectl config check`: loads and validates the configuration (exit 2 with the key and file when wrong). */
export const configCheck: Command = async ({ global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  ctx.caBundlePem();
  reporter.result({ ok: true, configFile: ctx.configPath }, () => [`configuration is valid${ctx.configPath ? ` (${ctx.configPath})` : ' (no config file; defaults and environment)'}`]);
  return 0;
};
