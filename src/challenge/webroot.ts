import { mkdir, rm, rmdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../domain/errors.js';
import { isValidToken } from '../domain/http01.js';
import type { Http01Challenge, Http01Solver } from '../domain/http01.js';
import { validationHint } from './validation-hints.js';
import type { ValidationFailure } from '../domain/http01.js';

/**
 * Writes token files under `<webroot>/.well-known/acme-challenge/` for the user's own web server to serve.
 * Files are 0644 and created directories 0755, so a web server running as another user can read them.
 * cleanUp removes the files, and the directories this solver created once they are empty.
 */
export class WebrootSolver implements Http01Solver {
  private readonly challengeDir: string;
  private createdDirs: string[] = [];
  private preparing: Promise<void> | undefined;

  constructor(private readonly webroot: string) {
    this.challengeDir = join(webroot, '.well-known', 'acme-challenge');
  }

  get description(): string {
    return `webroot ${this.webroot}`;
  }

  hintFor(failure: ValidationFailure): string | undefined {
    return validationHint({ method: 'webroot', webroot: this.webroot }, failure);
  }

  async present(challenge: Http01Challenge): Promise<void> {
    if (!isValidToken(challenge.token)) throw new OperationError(`refusing an unsafe challenge token for ${challenge.identifier}`);
    this.preparing ??= this.prepareDirectories();
    await this.preparing;
    const path = join(this.challengeDir, challenge.token);
    try {
      await writeFile(path, challenge.keyAuthorization, { mode: 0o644 });
      await chmod(path, 0o644); // the mode given to writeFile is filtered by the umask
    } catch (error) {
      throw new OperationError(`could not write the challenge file ${path}: ${(error as Error).message}`, {
        hint: 'the webroot must be writable by acmectl',
        cause: error,
      });
    }
  }

  async cleanUp(challenge: Http01Challenge): Promise<void> {
    if (!isValidToken(challenge.token)) return;
    await rm(join(this.challengeDir, challenge.token), { force: true });
  }

  /** Removes the directories this solver created, deepest first, if nothing else was put there. */
  async close(): Promise<void> {
    const created = this.createdDirs.reverse();
    this.createdDirs = [];
    this.preparing = undefined;
    for (const dir of created) {
      await rmdir(dir).catch(() => undefined); // not empty: someone else uses it, leave it
    }
  }

  private async prepareDirectories(): Promise<void> {
    const wellKnown = join(this.webroot, '.well-known');
    for (const dir of [wellKnown, this.challengeDir]) {
      try {
        await mkdir(dir, { mode: 0o755 });
        await chmod(dir, 0o755);
        this.createdDirs.push(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        this.preparing = undefined;
        throw new OperationError(`could not create ${dir}: ${(error as Error).message}`, {
          hint: 'the webroot must exist and be writable by acmectl',
          cause: error,
        });
      }
    }
  }
}
