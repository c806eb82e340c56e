import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AcmeProblemError } from '../acme/problem.js';
import { OperationError, UsageError } from '../domain/errors.js';
import { Reporter } from './reporter.js';

/** Output beyond this means something is looping: the fake terminal throws instead of filling memory. */
const OUTPUT_CAP = 64 * 1024;

type FakeStream = NodeJS.WriteStream & { text: () => string };

/**
 * A fake stream. As on a real terminal, the cursor methods write their escape sequences, so a spinner that
 * loops clearing lines shows up as bytes (and hits OUTPUT_CAP) instead of spinning silently.
 */
function stream(isTTY: boolean, size: { columns?: number; rows?: number } = { columns: 80, rows: 24 }): FakeStream {
  let text = '';
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as FakeStream;
  const write = writable.write.bind(writable);
  Object.assign(writable, {
    isTTY,
    columns: size.columns,
    rows: size.rows,
    text: () => text,
    write: (...args: Parameters<typeof write>) => {
      if (text.length > OUTPUT_CAP) throw new Error(`more than ${OUTPUT_CAP} bytes written: output is not bounded`);
      return write(...args);
    },
    cursorTo: (x: number) => writable.write(`\u001b[${x + 1}G`),
    moveCursor: (_dx: number, dy: number) => writable.write(dy < 0 ? `\u001b[${-dy}A` : dy > 0 ? `\u001b[${dy}B` : ''),
    clearLine: () => writable.write('\u001b[0K'),
  });
  return writable;
}

async function reporter(options: { tty?: boolean; size?: { columns?: number; rows?: number }; json?: boolean; quiet?: boolean; env?: NodeJS.ProcessEnv; color?: boolean }) {
  const stdout = stream(false);
  const stderr = stream(options.tty ?? false, options.size);
  const r = await Reporter.create({ stdout, stderr, json: options.json, quiet: options.quiet, color: options.color, env: options.env ?? {} });
  return { r, stdout, stderr };
}

const steps = (r: Reporter): void => {
  r.progress({ step: 'order', phase: 'start', message: 'creating the order' });
  r.progress({ step: 'order', phase: 'done', message: 'order created' });
  r.progress({ step: 'authorization', phase: 'start', id: 'a', message: 'validating a' });
  r.progress({ step: 'authorization', phase: 'failed', id: 'a', message: 'a not validated' });
};

describe('Reporter', () => {
  it('on a terminal: spinner and colours on stderr, data on stdout', async () => {
    const { r, stdout, stderr } = await reporter({ tty: true });
    expect(r.mode).toBe('human');
    steps(r);
    r.result({ ok: true }, () => ['done']);
    expect(stderr.text()).toMatch(/\u001b\[32m✔\u001b\[39m order created/);
    expect(stderr.text()).toMatch(/\u001b\[31m✖\u001b\[39m a not validated/);
    expect(stdout.text()).toBe('done\n');
  });

  it('not on a terminal (cron): one plain line per finished step, no colours', async () => {
    const { r, stdout, stderr } = await reporter({ tty: false });
    expect(r.mode).toBe('plain');
    steps(r);
    r.result({ ok: true }, () => ['done']);
    expect(stderr.text()).toBe('order created\nfailed: a not validated\n');
    expect(stdout.text()).toBe('done\n');
  });

  it('says a step that ended with a warning as a warning, on a terminal and off one', async () => {
    const warned = { step: 'preflight', phase: 'warned', message: 'webroot probe: x.example has no A or AAAA record' } as const;
    const plain = await reporter({ tty: false });
    plain.r.progress(warned);
    expect(plain.stderr.text()).toBe('warning: webroot probe: x.example has no A or AAAA record\n');
    const human = await reporter({ tty: true });
    human.r.progress({ ...warned, phase: 'start' });
    human.r.progress(warned);
    expect(human.stderr.text()).toMatch(/\u001b\[33m⚠\u001b\[39m webroot probe: x\.example has no A or AAAA record/);
  });

  it('honours NO_COLOR and --no-color on a terminal, and FORCE_COLOR off one', async () => {
    for (const options of [{ tty: true, env: { NO_COLOR: '1' } }, { tty: true, color: false }]) {
      const { r, stderr } = await reporter(options);
      steps(r);
      expect(stderr.text()).not.toMatch(/\u001b\[3\dm/);
    }
    const forced = await reporter({ tty: false, env: { FORCE_COLOR: '1' } });
    forced.r.error(new OperationError('boom'));
    expect(forced.stderr.text()).toMatch(/\u001b\[31merror:\u001b\[39m boom/);
  });

  it('with -q prints errors only', async () => {
    const { r, stdout, stderr } = await reporter({ quiet: true });
    steps(r);
    r.info('hello');
    r.result({ ok: true }, () => ['done']);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toBe('');
    expect(r.error(new OperationError('boom', { hint: 'do this' }))).toBe(1);
    expect(stderr.text()).toBe('error: boom\nhint: do this\n');
  });

  it('with -q still prints data a user asked for (list)', async () => {
    const { r, stdout } = await reporter({ quiet: true });
    r.result({}, () => ['NAME'], { always: true });
    expect(stdout.text()).toBe('NAME\n');
  });

  it('with --json prints exactly one document on stdout, also for an error', async () => {
    const { r, stdout, stderr } = await reporter({ json: true });
    steps(r);
    expect(r.error(new UsageError('bad name'))).toBe(2);
    r.result({ ok: true }, () => ['ignored']);
    expect(JSON.parse(stdout.text())).toEqual({ ok: false, error: { message: 'bad name', exitCode: 2 } });
    expect(stderr.text()).toContain('error: bad name');
  });

  it('shows every subproblem of a problem document', async () => {
    const { r, stderr } = await reporter({});
    r.error(
      new AcmeProblemError('the CA refused creating the order', {
        type: 'urn:ietf:params:acme:error:rejectedIdentifier',
        detail: 'no',
        subproblems: [{ type: 'urn:ietf:params:acme:error:dns', detail: 'NXDOMAIN', identifier: { type: 'dns', value: 'x.example.com' } }],
      }),
    );
    expect(stderr.text()).toContain('error: the CA refused creating the order: rejectedIdentifier: no\n  - x.example.com: dns: NXDOMAIN\n');
  });

  describe('on a terminal without a usable size', () => {
    // Serial consoles, CI runners, `script`, `docker run -t` before the size arrives: 0 × 0 or no size at all.
    it.each([
      ['0 columns and 0 rows', { columns: 0, rows: 0 }],
      ['no size at all', { columns: undefined, rows: undefined }],
      ['a width that is not a number', { columns: Number.NaN, rows: 24 }],
      ['an absurd width', { columns: 2 ** 31, rows: 24 }],
      ['a width too narrow for a spinner line', { columns: 5, rows: 24 }],
    ])('with %s: plain lines (colours kept), bounded output', async (_what, size) => {
      const { r, stdout, stderr } = await reporter({ tty: true, size });
      expect(r.mode).toBe('plain');
      steps(r);
      r.info('a message');
      r.warn('careful');
      r.result({ ok: true }, () => ['done']);
      r.close();
      expect(stderr.text()).toBe('order created\nfailed: a not validated\na message\n\u001b[33mwarning:\u001b[39m careful\n');
      expect(stdout.text()).toBe('done\n');
    });

    it('keeps output bounded when the terminal is resized to 0 columns (SIGWINCH) while the spinner runs', async () => {
      const { r, stderr } = await reporter({ tty: true, size: { columns: 80, rows: 24 } });
      expect(r.mode).toBe('human');
      r.progress({ step: 'order', phase: 'start', message: 'creating the order' });
      for (const columns of [0, Number.NaN, undefined, -1, 0.5]) {
        Object.assign(stderr, { columns, rows: 0 });
        stderr.emit('resize');
        r.progress({ step: 'authorization', phase: 'start', id: 'a', message: 'validating a.example.com, a name long enough to need several lines' });
        r.info('a message while it spins');
        r.debug('not shown without -v');
        r.progress({ step: 'authorization', phase: 'done', id: 'a', message: 'a.example.com validated' });
      }
      r.progress({ step: 'order', phase: 'done', message: 'order created' });
      r.close();
      expect(stderr.text().length).toBeLessThan(10 * 1024);
      expect(stderr.text()).toMatch(/✔\u001b\[39m order created\n/);
      expect(stderr.text().match(/a message while it spins\n/g)).toHaveLength(5);
    });
  });

  it('survives a terminal that hung up (EIO) or a pipe whose reader left (EPIPE): write errors are dropped', async () => {
    const { r, stdout, stderr } = await reporter({ tty: true });
    const eio = Object.assign(new Error('write EIO'), { code: 'EIO' });
    expect(() => stderr.emit('error', eio)).not.toThrow();
    expect(() => stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).not.toThrow();
    expect(r.error(new OperationError('still reported'))).toBe(1);
  });

  describe('what reaches the terminal', () => {
    // ESC ] 52 (set the clipboard), BEL, an 8-bit CSI and a right-to-left override, as a CA or a hook could send them.
    const EVIL = '\u001b]52;c;ZXZpbA==\u0007\u009b2J\u202e';
    const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
    const everyPath = (r: Reporter): void => {
      r.progress({ step: 'order', phase: 'done', message: `order ${EVIL}` });
      r.info(`info ${EVIL}`);
      r.warn(`warn ${EVIL}`);
      r.result({ ok: true, url: `https://ca.test/acct/${EVIL}` }, () => [`result ${EVIL}`]);
      r.error(new OperationError(`error ${EVIL}\n    hook output ${EVIL}`, { hint: `hint ${EVIL}` }));
    };

    it('plain: every control and bidi character made visible, line breaks kept', async () => {
      const { r, stdout, stderr } = await reporter({});
      everyPath(r);
      for (const text of [stdout.text(), stderr.text()]) expect(text).not.toMatch(RAW);
      expect(stdout.text()).toBe('result \\u{001b}]52;c;ZXZpbA==\\u{0007}\\u{009b}2J\\u{202e}\n');
      expect(stderr.text()).toContain('error: error \\u{001b}]52');
      expect(stderr.text()).toContain('\n    hook output \\u{001b}]52');
    });

    it('in colour: only the colours acmectl writes are left as escape sequences', async () => {
      const { r, stderr } = await reporter({ tty: true, env: { FORCE_COLOR: '1' } });
      everyPath(r);
      r.close();
      expect(stderr.text()).toContain('\u001b[33mwarning:\u001b[39m warn \\u{001b}]52');
      expect(stderr.text()).not.toMatch(/\u001b\]|\u0007|\u009b|\u202e/);
    });

    it('--json: one document whose strings hold the text as sent, with every control character escaped', async () => {
      const { r, stdout } = await reporter({ json: true });
      everyPath(r);
      expect(stdout.text()).not.toMatch(RAW);
      expect(JSON.parse(stdout.text())).toEqual({ ok: true, url: `https://ca.test/acct/${EVIL}` });
    });
  });

  it('maps unexpected errors to exit code 1', async () => {
    const { r } = await reporter({});
    expect(r.error(new TypeError('oops'))).toBe(1);
  });
});
