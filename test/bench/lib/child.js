// One timed run of a command in a fresh process: wall-clock time from spawn to exit, its output, and for Node
// processes the peak memory (peak-memory.cjs preloaded).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { isStopping, trackChild } from './cleanup.js';

const PEAK_MEMORY_PRELOAD = fileURLToPath(new URL('../peak-memory.cjs', import.meta.url));
const OUTPUT_LIMIT = 64 << 20;

/**
 * A clean environment for a child: no ACMECTL_*, NODE_OPTIONS or proxy settings leak in from the shell that
 * started the bench; HOME is the given directory so that no tool reads or writes the user's own.
 * @param {string} home
 * @param {Record<string, string>} [extra]
 */
export function cleanEnv(home, extra = {}) {
  /** @type {Record<string, string>} */
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', LC_ALL: 'C.UTF-8' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return { ...env, ...extra };
}

/**
 * @typedef {object} RunResult
 * @property {number} ms wall-clock milliseconds from spawn to exit
 * @property {number | null} peakKiB peak RSS of a Node process run with { peakMemory: true }
 * @property {number | null} code
 * @property {string} stdout
 * @property {string} stderr
 */

/**
 * Runs `command args` to completion and times it. Never rejects for a non-zero exit (see `code`).
 * @param {string} command
 * @param {string[]} args
 * @param {{ env: Record<string, string>, cwd?: string, peakMemory?: boolean, timeoutMs?: number }} options
 * @returns {Promise<RunResult>}
 */
export function runTimed(command, args, options) {
  const peakFile = options.peakMemory ? join(tmpdir(), `acmectl-bench-rss-${process.pid}-${randomBytes(6).toString('hex')}`) : null;
  const env = peakFile ? { ...options.env, NODE_OPTIONS: `--require ${JSON.stringify(PEAK_MEMORY_PRELOAD)}`, BENCH_PEAK_RSS_FILE: peakFile } : options.env;
  if (isStopping()) return Promise.reject(new Error(`not starting ${command}: the bench is stopping`));
  return new Promise((resolve, reject) => {
    const stdout = [];
    const stderr = [];
    let size = 0;
    const started = performance.now();
    const child = spawn(command, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000);
    const keep = (into) => (chunk) => {
      size += chunk.length;
      if (size < OUTPUT_LIMIT) into.push(chunk);
    };
    child.stdout.on('data', keep(stdout));
    child.stderr.on('data', keep(stderr));
    let ms = 0;
    child.once('exit', () => {
      ms = performance.now() - started;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      let peakKiB = null;
      if (peakFile && existsSync(peakFile)) {
        peakKiB = Number(readFileSync(peakFile, 'utf8'));
        rmSync(peakFile, { force: true });
      }
      resolve({ ms, peakKiB, code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/**
 * runTimed for a { command, args, env } spec (as acmectl() and the peers make them).
 * @param {{ command: string, args: string[], env: Record<string, string> }} spec
 * @param {{ peakMemory?: boolean, timeoutMs?: number }} [options]
 */
export function runSpec(spec, options = {}) {
  return runTimed(spec.command, spec.args, { env: spec.env, ...options });
}

/** Throws with the command's last words unless it exited 0 (and `check`, when given, accepts the result). */
export function expectSuccess(what, result, check = () => true) {
  if (result.code === 0 && check(result)) return result;
  const tail = (text) => text.trimEnd().split('\n').slice(-15).join('\n');
  throw new Error(`${what} failed (exit ${result.code}):\n${tail(result.stderr)}\n${tail(result.stdout)}`);
}
