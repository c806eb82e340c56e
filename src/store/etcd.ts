import { UsageError } from '../core/errors.js';
import type { EtcdStoreConfig } from './etcd-url.js';
import type { Store } from './store.js';

/** Opens the etcd store. */
export async function openEtcdStore(config: EtcdStoreConfig): Promise<Store> {
  throw new UsageError(`the etcd store is not available in this version of acmectl yet (${config.display})`);
}
