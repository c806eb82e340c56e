import { UsageError } from '../core/errors.js';
import type { ConsulStoreConfig } from './consul-url.js';
import type { Store } from './store.js';

/** Opens the consul store. */
export async function openConsulStore(config: ConsulStoreConfig): Promise<Store> {
  throw new UsageError(`the consul store is not available in this version of acmectl yet (${config.display})`);
}
