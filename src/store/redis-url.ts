import { UsageError } from '../core/errors.js';
import type { NetworkOptions, StoreOpenContext } from './url-options.js';

/** Everything needed to open the redis store, parsed from its URL (no I/O besides reading secret files). */
export interface RedisStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
}

/** Parses the text of a redis store URL (SPEC §5). Throws UsageError (exit 2) with the expected form. */
export function parseRedisUrl(url: string, context: StoreOpenContext): RedisStoreConfig {
  void url;
  void context;
  throw new UsageError('the redis store is not available in this version of acmectl yet');
}
