import { UsageError } from '../core/errors.js';
import type { VaultStoreConfig } from './vault-url.js';
import type { Store } from './store.js';

/** Opens the vault store. */
export async function openVaultStore(config: VaultStoreConfig): Promise<Store> {
  throw new UsageError(`the vault store is not available in this version of acmectl yet (${config.display})`);
}
