import { stat } from 'node:fs/promises';
import { OperationError } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import type { Http01Solver, SolverSettings } from '../domain/http01.js';
import { StorePublishingSolver } from './store-published.js';

/**
 * One solver per distinct way of answering within a run: every certificate renewed on port 80 shares a
 * single standalone listener, every certificate with the same webroot shares one webroot writer.
 * With a shared store, every solver also publishes its tokens there (StorePublishingSolver), so that
 * `acmectl serve` on any node can answer; the `store` method publishes only there.
 * `closeAll` at the end of the run releases listeners and removes directories the writers created.
 */
export class SolverPool {
  readonly #solvers = new Map<string, Promise<Http01Solver>>();

  /** `store`: the run's store; its tokens are published there when it is shared (or the method is `store`). */
  constructor(private readonly store: Store | null = null) {}

  solverFor(settings: SolverSettings): Promise<Http01Solver> {
    const key = settings.challenge === 'webroot' ? `webroot:${settings.webroot}` : settings.challenge === 'store' ? 'store' : `${settings.challenge}:${settings.httpPort}:${settings.httpAddress ?? '*'}`;
    let solver = this.#solvers.get(key);
    if (!solver) {
      solver = this.#create(settings);
      this.#solvers.set(key, solver);
    }
    return solver;
  }

  async #create(settings: SolverSettings): Promise<Http01Solver> {
    if (settings.challenge === 'store') {
      if (!this.store?.shared) throw new OperationError('the store challenge method needs a shared store (redis, etcd, consul or vault) that acmectl serve answers from');
      return new StorePublishingSolver(this.store, null);
    }
    const local = await createSolver(settings);
    return this.store?.shared ? new StorePublishingSolver(this.store, local) : local;
  }

  async closeAll(): Promise<void> {
    const solvers = await Promise.allSettled(this.#solvers.values());
    this.#solvers.clear();
    await Promise.allSettled(solvers.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
  }
}

async function createSolver(settings: SolverSettings): Promise<Http01Solver> {
  switch (settings.challenge) {
    case 'webroot': {
      if (!settings.webroot) throw new OperationError('the certificate uses the webroot method but has no webroot stored');
      // Checked before ordering: a webroot that is gone would only fail after the order was spent.
      if (!(await stat(settings.webroot).then((s) => s.isDirectory(), () => false))) {
        throw new OperationError(`the webroot ${settings.webroot} stored with this certificate is not a directory any more`, {
          hint: 'restore it, or issue the certificate again with --webroot DIR (or --standalone) and --force',
        });
      }
      const { WebrootSolver } = await import('./webroot.js');
      return new WebrootSolver(settings.webroot);
    }
    case 'standalone': {
      const { StandaloneSolver } = await import('./standalone.js');
      return new StandaloneSolver({ port: settings.httpPort, addresses: settings.httpAddress ? settings.httpAddress.split(',') : [] });
    }
    case 'store':
      throw new OperationError('the store challenge method has no local solver');
  }
}
