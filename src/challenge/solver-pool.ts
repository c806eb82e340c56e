import type { RenewalSettings } from '../core/certificate-record.js';
import { OperationError } from '../core/errors.js';
import type { Http01Solver } from './solver.js';

/**
 * One solver per distinct way of answering within a run: every certificate renewed on port 80 shares a
 * single standalone listener, every certificate with the same webroot shares one webroot writer.
 * `closeAll` at the end of the run releases listeners and removes directories the writers created.
 */
export class SolverPool {
  readonly #solvers = new Map<string, Promise<Http01Solver>>();

  solverFor(settings: Pick<RenewalSettings, 'challenge' | 'httpPort' | 'httpAddress' | 'webroot'>): Promise<Http01Solver> {
    const key = settings.challenge === 'webroot' ? `webroot:${settings.webroot}` : `${settings.challenge}:${settings.httpPort}:${settings.httpAddress ?? '*'}`;
    let solver = this.#solvers.get(key);
    if (!solver) {
      solver = createSolver(settings);
      this.#solvers.set(key, solver);
    }
    return solver;
  }

  async closeAll(): Promise<void> {
    const solvers = await Promise.allSettled(this.#solvers.values());
    this.#solvers.clear();
    await Promise.allSettled(solvers.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
  }
}

async function createSolver(settings: Pick<RenewalSettings, 'challenge' | 'httpPort' | 'httpAddress' | 'webroot'>): Promise<Http01Solver> {
  switch (settings.challenge) {
    case 'webroot': {
      if (!settings.webroot) throw new OperationError('the certificate uses the webroot method but has no webroot stored');
      const { WebrootSolver } = await import('./webroot.js');
      return new WebrootSolver(settings.webroot);
    }
    case 'standalone': {
      const { StandaloneSolver } = await import('./standalone.js');
      return new StandaloneSolver({ port: settings.httpPort, addresses: settings.httpAddress ? settings.httpAddress.split(',') : [] });
    }
    case 'store':
      throw new OperationError('the store challenge method needs a shared store, which this version does not have yet');
  }
}
