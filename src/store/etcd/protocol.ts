/**
 * The JSON of etcd's v3 gateway as acmectl uses it. It carries keys and values in base64, int64 fields as
 * strings, and leaves out every field at its zero value (an empty value, lease 0, `succeeded: false`).
 */

/** etcd's answer made no sense for acmectl (a foreign value under our prefix, a field missing). */
export class EtcdDataError extends Error {
  override name = 'EtcdDataError';
}

export function encodeKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64');
}

export function encodeText(text: string): string {
  return Buffer.from(text, 'latin1').toString('base64');
}

export function encodeBytes(bytes: Buffer): string {
  return bytes.toString('base64');
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}

export function revisionOf(kv: KeyValue): string {
  if (kv.mod_revision === undefined) throw new EtcdDataError('etcd answered a key without its mod_revision');
  return kv.mod_revision;
}

export function headerRevision(response: { header?: ResponseHeader }): string {
  const revision = response.header?.revision;
  if (revision === undefined) throw new EtcdDataError('etcd answered without a revision in its header');
  return revision;
}

export interface ResponseHeader {
  revision?: string;
}

export interface KeyValue {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

export interface RangeRequest {
  key: string;
  range_end?: string;
  limit?: number;
  revision?: string;
  keys_only?: boolean;
}

export interface RangeResponse {
  header?: ResponseHeader;
  kvs?: KeyValue[];
  more?: boolean;
}

export interface PutRequest {
  key: string;
  value: string;
  lease?: string;
}

export interface Compare {
  key: string;
  target: 'CREATE' | 'MOD' | 'VALUE';
  result: 'EQUAL' | 'GREATER' | 'LESS';
  create_revision?: string;
  mod_revision?: string;
  value?: string;
}

export type RequestOp =
  | { request_range: RangeRequest }
  | { request_put: PutRequest }
  | { request_delete_range: { key: string } };

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header?: ResponseHeader;
  /** Left out (not false) when the compares failed. */
  succeeded?: boolean;
  responses?: Array<{
    response_range?: RangeResponse;
    response_put?: { header?: ResponseHeader };
    response_delete_range?: { deleted?: string };
  }>;
}
