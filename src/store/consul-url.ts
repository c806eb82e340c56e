import { UsageError } from '../core/errors.js';
import type { NetworkOptions, StoreOpenContext } from './url-options.js';

/** Everything needed to open the consul store, parsed from its URL (no I/O besides reading secret files). */
export interface ConsulStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
}

/** Parses the text of a consul store URL (SPEC §5). Throws UsageError (exit 2) with the expected form. */
export function parseConsulUrl(url: string, context: StoreOpenContext): ConsulStoreConfig {
  void url;
  void context;
  throw new UsageError('the consul store is not available in this version of acmectl yet');
}
