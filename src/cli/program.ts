import { Argument, Command as Commander, Option } from 'commander';
import type { OutputConfiguration } from 'commander';
import { KEY_TYPES, CHALLENGE_METHODS } from '../domain/choices.js';
import { COMPLETION_SHELLS } from './completion-shells.js';
import { PRESET_NAMES } from '../acme/directory-presets.js';
import type { Command, CommandInput } from './command.js';
import type { GlobalOptions } from './context.js';

import { VERSION } from './version.js';

export { VERSION };

/** Runs a command once the reporter exists (it depends on --json/-q/--no-color, known only after parsing). */
export type Dispatch = (load: () => Promise<Command<never>>, input: Omit<CommandInput, 'reporter' | 'signal'>) => Promise<void>;

/**
 * The command tree: commander wiring only. Each command module is imported when its command runs, so
 * `acmectl list` never loads the ACME client. The tree is also what completions/ and man/ are checked against.
 */
export function buildProgram(dispatch: Dispatch, output: OutputConfiguration = {}): Commander {
  const program = new Commander('acmectl')
    .exitOverride() // before the subcommands, which inherit it: main() maps parse errors to exit code 2
    .configureOutput(output)
    .description('Obtain, renew and deploy TLS certificates from Let\'s Encrypt or any ACME CA (HTTP-01)')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // Program options only before the command, so that `export NAME --version 2` is export's --version.
    // The global options are declared on every command as well: `acmectl list --json` works too.
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false });
  addGlobalOptions(program);

  const run =
    (load: () => Promise<Command<never>>) =>
    async (...params: unknown[]): Promise<void> => {
      const command = params[params.length - 1] as Commander;
      await dispatch(load, { args: command.args, options: command.opts(), global: globalOptionsOf(program, command) });
    };

  program
    .command('issue')
    .description('obtain a certificate for the names (the first name is the certificate name unless --name)')
    .argument('<domain...>', 'DNS names or IP addresses')
    .option('--name <name>', 'certificate name (default: the first domain)')
    .option('--standalone', 'answer challenges with a short-lived HTTP server (default)')
    .option('--webroot <dir>', 'write challenge files under <dir>/.well-known/acme-challenge/ for your web server')
    .addOption(new Option('--challenge <method>', 'how challenges are answered (store: publish to the shared store only, for acmectl serve)').choices(CHALLENGE_METHODS))
    .option('--http-port <port>', 'port of the standalone server, or where the web server of --webroot answers (default 80)')
    .option('--http-address <address>', 'address(es) of the standalone server, comma separated (default: all IPv4 and IPv6)')
    .option('--no-preflight', 'with --webroot: do not probe the webroot through the names before ordering')
    .addOption(new Option('--key-type <type>', 'certificate key type (default ec256)').choices(KEY_TYPES))
    .option('--profile <name>', "the CA's certificate profile, e.g. shortlived (acmectl ca lists them); stored for renewals")
    .option('--preferred-chain <issuer>', 'when the CA offers several chains, use the one whose top certificate is issued by this common name (e.g. "ISRG Root X1"); stored')
    .option('--email <email>', 'contact email for a new ACME account')
    .option('--agree-tos', "agree to the CA's terms of service (needed to register an account)")
    .option('--eab-kid <kid>', 'external account binding key id')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key (base64url)')
    .option('--out <dir>', 'export directory: files go to <dir>/<name>/ (default <data dir>/live)')
    .addOption(formatOption())
    .option('--password-file <file>', 'PKCS#12 password (first line); or ACMECTL_PKCS12_PASSWORD')
    .option('--key-group <group>', 'group given the private key files, e.g. ssl-cert, so that services in it can read them; stored')
    .option('--key-mode <mode>', 'mode of the private key files: 0600 (default), 0640 (with --key-group) or 0644; stored')
    .option('--pre-hook <command>', 'run before the first challenge (e.g. to free port 80); stored for renewals')
    .option('--post-hook <command>', 'run after the order, also after a failure (e.g. systemctl reload nginx); stored for renewals')
    .option('--deploy-hook <command>', 'run for each certificate issued or renewed, with its data in the environment; stored')
    .option('--failure-hook <command>', 'run when getting the certificate fails (names and reasons in ACMECTL_FAILED, ACMECTL_FAILURES); stored')
    .option('--hook-timeout <seconds>', 'seconds a hook may run (default 120)')
    .option('--force', 'renew even if the certificate is not due')
    .option('--dry-run', "order from the CA's staging directory; store nothing, write no file, run no hook")
    .option('--run-deploy-hooks', 'with --dry-run: run the hooks anyway, to test them')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .option('--order-timeout <seconds>', 'seconds the CA may take to validate and issue (default 300)')
    .action(run(async () => (await import('./commands/issue.js')).issue as Command<never>));

  program
    .command('renew')
    .description('renew every certificate that is due (or the named ones) with the settings stored at issue time')
    .argument('[name...]', 'certificate names (default: all)')
    .option('--days <n>', 'renew when fewer than n days are left (default: a third of the lifetime, half for 10 days or less)')
    .option('--force', 'renew even if not due')
    .option('--concurrency <n>', 'certificates renewed at once (default 4)')
    .option('--random-sleep', 'wait a random 0-480 s before the first order (default when not on a terminal)')
    .option('--no-random-sleep', 'do not wait')
    .option('--no-preflight', 'do not probe the webroots through the names before ordering')
    .option('--dry-run', "order from the CAs' staging directories; store nothing, write no file, run no hook")
    .option('--run-deploy-hooks', 'with --dry-run: run the hooks anyway, to test them')
    .option('--pre-hook <command>', 'run once before the first order of this run')
    .option('--post-hook <command>', 'run once after the last order of this run')
    .option('--deploy-hook <command>', 'run for each renewed certificate, besides its stored deploy hook')
    .option('--failure-hook <command>', 'run once after the run when a certificate or hook failed, besides stored failure hooks')
    .option('--hook-timeout <seconds>', 'seconds a hook may run (default 120)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .option('--order-timeout <seconds>', 'seconds the CA may take to validate and issue (default 300)')
    .action(run(async () => (await import('./commands/renew.js')).renew as Command<never>));

  program
    .command('list')
    .alias('ls')
    .description('list certificates: name, domains, expiry, days left, status')
    .option('--expiring <days>', 'only certificates with fewer days left; exit 1 when there is any (a monitoring check)')
    .addOption(new Option('--format <format>', 'table (default), json, or prometheus: metrics for node_exporter\'s textfile collector').choices(['table', 'json', 'prometheus']))
    .option('--output <file>', 'with --format prometheus: write the metrics to this file (atomically) instead of stdout')
    // --format json is --json: the same one document on stdout, errors included (docs/json.md).
    .hook('preAction', (list) => {
      if (list.opts().format === 'json') list.setOptionValueWithSource('json', true, 'cli');
    })
    .action(run(async () => (await import('./commands/list.js')).list as Command<never>));

  program
    .command('show')
    .description('show one certificate: serial, issuer, key type, domains, validity, renewal settings, versions')
    .argument('<name>', 'certificate name')
    .option('--pem', 'print the certificate and chain as PEM')
    .action(run(async () => (await import('./commands/show.js')).show as Command<never>));

  program
    .command('serve')
    .description('answer HTTP-01 challenges published in the shared store (run it on every node behind the load balancer)')
    .option('--http-port <port>', 'port to listen on (default 80)')
    .option('--http-address <address>', 'address(es), comma separated (default: all IPv4 and IPv6)')
    .action(run(async () => (await import('./commands/serve.js')).serve as Command<never>));

  program
    .command('export')
    .description('write a certificate\'s files again: elsewhere, in other formats, or an earlier version (rollback)')
    .argument('<name>', 'certificate name')
    .option('--out <dir>', 'export directory: files go to <dir>/<name>/ (default: where the certificate is exported)')
    .addOption(formatOption())
    .option('--password-file <file>', 'PKCS#12 password (first line); or ACMECTL_PKCS12_PASSWORD')
    .option('--version <n>', 'an earlier version from the history (acmectl show lists them)')
    .action(run(async () => (await import('./commands/export.js')).exportCommand as Command<never>));

  program
    .command('revoke')
    .description('revoke the certificate at its CA')
    .argument('<name>', 'certificate name')
    .addOption(new Option('--reason <reason>', 'why (default unspecified)').choices(['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation']))
    .option('--delete', 'forget the certificate afterwards')
    .action(run(async () => (await import('./commands/revoke.js')).revoke as Command<never>));

  program
    .command('delete')
    .description('forget a certificate (the store entry and its history)')
    .argument('<name>', 'certificate name')
    .option('--files', 'also remove its exported files')
    .action(run(async () => (await import('./commands/delete.js')).deleteCommand as Command<never>));

  const store = program.command('store').description('store management');
  store
    .command('copy')
    .description('copy accounts and certificates from one store to another (e.g. SQLite to Redis)')
    .option('--from <url>', 'the store to copy from (default: the configured store)')
    .option('--to <url>', 'the store to copy into')
    .option('--overwrite', 'replace entries the destination holds with other content')
    .action(run(async () => (await import('./commands/store-copy.js')).storeCopy as Command<never>));

  const importGroup = program.command('import').description('adopt certificates managed by another ACME client');
  importGroup
    .command('certbot')
    .description("adopt certbot's lineages: history, keys, renewal settings and account (certbot's files are only read)")
    .argument('[dir]', "certbot's configuration directory (default /etc/letsencrypt)")
    .option('--dry-run', 'show what would be imported, and how each lineage maps; write nothing')
    .option('--out <dir>', 'export directory for the imported certificates: files go to <dir>/<name>/ (default <data dir>/live); stored')
    .action(run(async () => (await import('./commands/import-certbot.js')).importCertbot as Command<never>));

  const config = program.command('config').description('configuration');
  config
    .command('show')
    .description('print the effective settings and where each comes from (secrets redacted)')
    .action(run(async () => (await import('./commands/config.js')).configShow as Command<never>));
  config
    .command('check')
    .description('validate the configuration file, environment and flags')
    .action(run(async () => (await import('./commands/config.js')).configCheck as Command<never>));

  program
    .command('doctor')
    .description('check what usually goes wrong before it costs a rate limit: CA, clock, store, port 80, webroots served, acmectl serve answering, hooks, export directories')
    .argument('[name...]', 'certificate names (default: all, and this machine\'s own checks)')
    .option('--http-port <port>', 'the port to check for the standalone server (default 80)')
    .option('--http-address <address>', 'address(es) to check it on, comma separated (default: all IPv4 and IPv6)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/doctor.js')).doctor as Command<never>));

  program
    .command('ca')
    .description('what a CA offers: profiles, renewal information (ARI), EAB required, terms of service, CAA identities')
    .action(run(async () => (await import('./commands/ca.js')).ca as Command<never>));

  const account = program.command('account').description('ACME account management');
  account
    .command('register')
    .description('register an ACME account with the CA (one per CA and email)')
    .option('--email <email>', 'contact email')
    .option('--agree-tos', "agree to the CA's terms of service")
    .option('--eab-kid <kid>', 'external account binding key id (from the CA)')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key (base64url, from the CA)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/account.js')).accountRegister as Command<never>));
  account
    .command('list')
    .description('list the accounts in the store')
    .action(run(async () => (await import('./commands/account.js')).accountList as Command<never>));
  account
    .command('show')
    .description("show the account for the CA (--server): URL, contact, status as the CA reports it now, key type; never the key")
    .option('--email <email>', 'the account registered with this email (default: the only account for the CA)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/account.js')).accountShow as Command<never>));
  account
    .command('update')
    .description('change the account\'s contact email at the CA and in the store')
    .option('--email <email>', 'the new contact email')
    .option('--no-email', 'remove the contact')
    .option('--current-email <email>', 'the account to change: the one registered with this email (default: the only account for the CA)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/account.js')).accountUpdate as Command<never>));
  account
    .command('rollover')
    .description('replace the account key with a new one at the CA (RFC 8555 key change); the old key stops working')
    .option('--email <email>', 'the account registered with this email (default: the only account for the CA)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/account.js')).accountRollover as Command<never>));
  account
    .command('deactivate')
    .description('deactivate the account at the CA, for good; the store keeps it for history')
    .option('--email <email>', 'the account registered with this email (default: the only account for the CA)')
    .option('--yes', 'do not ask for confirmation (needed when not on a terminal)')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .action(run(async () => (await import('./commands/account.js')).accountDeactivate as Command<never>));

  const schedule = program.command('schedule').description('run acmectl renew twice a day: a systemd timer or a cron job');
  const rootOption = (): Option => new Option('--root <dir>', 'write and look for the files under this directory instead of / (packaging, tests)');
  schedule
    .command('install')
    .description('install the twice-daily renewal (refused while certbot, acme.sh or acmectl already has one)')
    .option('--systemd', 'a systemd service and timer (the default where systemd runs)')
    .option('--cron', 'a file in /etc/cron.d')
    .addOption(rootOption())
    .action(run(async () => (await import('./commands/schedule.js')).scheduleInstall as Command<never>));
  schedule
    .command('status')
    .description('the renewal schedules on this machine, the next run and how the last renew ended')
    .addOption(rootOption())
    .action(run(async () => (await import('./commands/schedule.js')).scheduleStatusCommand as Command<never>));
  schedule
    .command('remove')
    .description("remove acmectl's schedule")
    .addOption(rootOption())
    .action(run(async () => (await import('./commands/schedule.js')).scheduleRemove as Command<never>));

  program
    .command('completion')
    .description('print the shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .action(run(async () => (await import('./commands/completion.js')).completionOf(program) as Command<never>));

  // Hidden (not in --help, completions, the man page or docs): what the completion scripts ask for the stored
  // certificate names. It takes the global options, so that --store and --config typed earlier count.
  program
    .command('__certificate-names', { hidden: true })
    .description('print the stored certificate names, one a line, for shell completion')
    .action(run(async () => (await import('./commands/certificate-names.js')).certificateNames as Command<never>));

  for (const command of leafCommands(program)) addGlobalOptions(command);
  return program;
}

const GLOBAL_OPTIONS: readonly (readonly [string, string])[] = [
  ['--config <file>', 'config file (default: found by searching acmectl.config.json, .acmectlrc, ...)'],
  ['--store <url>', 'store URL (default sqlite:<data dir>/acmectl.db)'],
  ['--server <name|url>', `CA: ${PRESET_NAMES.join(', ')}, or a directory URL (default letsencrypt)`],
  ['--ca-bundle <file>', 'extra CA certificates (PEM) trusted for the ACME server'],
  ['--json', 'print one JSON document on stdout'],
  ['-q, --quiet', 'print errors only'],
  ['-v, --verbose', 'print more detail'],
  ['--no-color', 'no colours'],
];
const GLOBAL_KEYS = ['config', 'store', 'server', 'caBundle', 'json', 'quiet', 'verbose', 'color'] as const;

function addGlobalOptions(command: Commander): void {
  for (const [flags, description] of GLOBAL_OPTIONS) command.option(flags, description);
}

/** Global options given before the command, overridden by those given after it. */
function globalOptionsOf(program: Commander, command: Commander): GlobalOptions {
  const global: Record<string, unknown> = { ...program.opts() };
  for (const key of GLOBAL_KEYS) {
    if (command.getOptionValueSource(key) === 'cli') global[key] = command.getOptionValue(key);
  }
  return global as GlobalOptions;
}

function leafCommands(command: Commander): Commander[] {
  return command.commands.flatMap((sub) => (sub.commands.length === 0 ? [sub] : leafCommands(sub)));
}

/** `--format` may be repeated or comma separated: pem (always written), combined, pkcs12. */
function formatOption(): Option {
  return new Option('--format <format>', 'also write combined.pem (key + full chain) or certificate.p12: pem, combined, pkcs12').argParser(
    (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
  );
}
