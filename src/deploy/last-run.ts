import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** What the last `acmectl renew` on this host did: for `schedule status` and people reading the data dir. */
export interface LastRun {
  finishedAt: string;
  exitCode: number;
  renewed: number;
  failed: number;
  notDue: number;
}

const FILE_NAME = 'last-renew.json';

export async function writeLastRun(dataDir: string, run: LastRun): Promise<void> {
  await writeFileAtomic(join(dataDir, FILE_NAME), `${JSON.stringify(run)}\n`, 0o644);
}

/** The last run noted in the data directory, or null (never ran here, or an unreadable note). */
export async function readLastRun(dataDir: string): Promise<LastRun | null> {
  try {
    const value = JSON.parse(await readFile(join(dataDir, FILE_NAME), 'utf8')) as Partial<LastRun>;
    if (typeof value.finishedAt !== 'string' || typeof value.exitCode !== 'number') return null;
    return { finishedAt: value.finishedAt, exitCode: value.exitCode, renewed: value.renewed ?? 0, failed: value.failed ?? 0, notDue: value.notDue ?? 0 };
  } catch {
    return null;
  }
}
