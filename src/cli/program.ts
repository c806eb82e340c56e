import { Argument, Command as Commander, Option } from 'commander';
import { KEY_TYPES, CHALLENGE_METHODS } from '../config/settings.js';
import { PRESET_NAMES } from '../acme/directory-presets.js';
import type { Command, CommandInput } from './command.js';
import type { GlobalOptions } from './context.js';

export const VERSION = '0.1.0';

/** Runs a command once the reporter exists (it depends on --json/-q/--no-color, known only after parsing). */
export type Dispatch = (load: () => Promise<Command<never>>, input: Omit<CommandInput, 'reporter' | 'signal'>) => Promise<void>;

/**
 * The command tree: commander wiring only. Each command module is imported when its command runs, so
 * `acmectl list` never loads the ACME client. The tree is also what completions/ and man/ are checked against.
 */
export function buildProgram(dispatch: Dispatch): Commander {
  const program = new Commander('acmectl')
    .exitOverride() // before the subcommands, which inherit it: main() maps parse errors to exit code 2
    .description('Obtain, renew and deploy TLS certificates from Let\'s Encrypt or any ACME CA (HTTP-01)')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--config <file>', 'config file (default: found by searching acmectl.config.json, .acmectlrc, ...)')
    .option('--store <url>', 'store URL (default sqlite:<data dir>/acmectl.db)')
    .option('--server <name|url>', `CA: ${PRESET_NAMES.join(', ')}, or a directory URL (default letsencrypt)`)
    .option('--ca-bundle <file>', 'extra CA certificates (PEM) trusted for the ACME server')
    .option('--json', 'print one JSON document on stdout')
    .option('-q, --quiet', 'print errors only')
    .option('-v, --verbose', 'print more detail')
    .option('--no-color', 'no colours')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });

  const run =
    (load: () => Promise<Command<never>>) =>
    async (...params: unknown[]): Promise<void> => {
      const command = params[params.length - 1] as Commander;
      const args = command.args;
      await dispatch(load, { args, options: command.opts(), global: program.opts<GlobalOptions>() });
    };

  program
    .command('issue')
    .description('obtain a certificate for the names (the first name is the certificate name unless --name)')
    .argument('<domain...>', 'DNS names or IP addresses')
    .option('--name <name>', 'certificate name (default: the first domain)')
    .option('--standalone', 'answer challenges with a short-lived HTTP server (default)')
    .option('--webroot <dir>', 'write challenge files under <dir>/.well-known/acme-challenge/ for your web server')
    .addOption(new Option('--challenge <method>', 'how challenges are answered').choices(CHALLENGE_METHODS.filter((m) => m !== 'store')))
    .option('--http-port <port>', 'port of the standalone server (default 80)')
    .option('--http-address <address>', 'address(es) of the standalone server, comma separated (default: all IPv4 and IPv6)')
    .addOption(new Option('--key-type <type>', 'certificate key type (default ec256)').choices(KEY_TYPES))
    .option('--email <email>', 'contact email for a new ACME account')
    .option('--agree-tos', "agree to the CA's terms of service (needed to register an account)")
    .option('--eab-kid <kid>', 'external account binding key id')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key (base64url)')
    .option('--out <dir>', 'export directory: files go to <dir>/<name>/ (default <data dir>/live)')
    .option('--force', 'renew even if the certificate is not due')
    .option('--request-timeout <seconds>', 'seconds one request to the CA may take (default 30)')
    .option('--order-timeout <seconds>', 'seconds the CA may take to validate and issue (default 300)')
    .action(run(async () => (await import('./commands/issue.js')).issue as Command<never>));

  program
    .command('list')
    .alias('ls')
    .description('list certificates: name, domains, expiry, days left, status')
    .option('--expiring <days>', 'only certificates with fewer days left')
    .action(run(async () => (await import('./commands/list.js')).list as Command<never>));

  program
    .command('show')
    .description('show one certificate: serial, issuer, key type, domains, validity, renewal settings, versions')
    .argument('<name>', 'certificate name')
    .option('--pem', 'print the certificate and chain as PEM')
    .action(run(async () => (await import('./commands/show.js')).show as Command<never>));

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

  program
    .command('completion')
    .description('print the shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash']))
    .action(run(async () => (await import('./commands/completion.js')).completion as Command<never>));

  return program;
}
