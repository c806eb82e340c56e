import { UsageError } from '../core/errors.js';
import type { RedisStoreConfig } from './redis-url.js';
import type { Store } from './store.js';

/** Opens the redis store. */
export async function openRedisStore(config: RedisStoreConfig): Promise<Store> {
  throw new UsageError(`the redis store is not available in this version of acmectl yet (${config.display})`);
}
