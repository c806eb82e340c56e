/**
 * The one place store keys are built. Every key a backend sees comes from `storeKey()`, so the rules that
 * keep keys safe live here and nowhere else: a segment can never climb out of its parent ('..'), never
 * split into two segments ('/' or '\\'), never carry a control character into a log line or a file path,
 * and never act as a pattern (`*`, `?`, `[` are plain characters; backends that list with patterns must
 * escape them: redis.ts escapes SCAN patterns with escapeGlob).
 */
import { UsageError } from '../domain/errors.js';

/** Longest segment in UTF-8 bytes; the usual file-name limit, so a segment can always become a file name. */
export const MAX_SEGMENT_BYTES = 255;

// U+0000–U+001F and U+007F: invisible in messages, dangerous in paths and terminals.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Joins validated segments with '/': `storeKey('certs', 'example.com')` → `'certs/example.com'`.
 * Throws UsageError (exit 2) for no segments, an empty segment, '.' or '..', a segment containing '/', '\\'
 * or a control character, or a segment longer than 255 UTF-8 bytes. Pure: same input, same key.
 */
export function storeKey(...segments: string[]): string {
  if (segments.length === 0) {
    throw new UsageError('a store key needs at least one segment');
  }
  for (const segment of segments) checkSegment(segment);
  return segments.join('/');
}

/**
 * The prefix that lists everything under the segments: `storePrefix('certs')` → `'certs/'`. It never
 * matches a sibling that merely starts with the same characters (`certs-old/...`). Same rules as storeKey.
 */
export function storePrefix(...segments: string[]): string {
  return `${storeKey(...segments)}/`;
}

function checkSegment(segment: string): void {
  if (typeof segment !== 'string') {
    throw new UsageError(`a store key segment must be a string, not ${typeof segment}`);
  }
  if (segment === '') {
    throw new UsageError('a store key segment must not be empty');
  }
  if (segment === '.' || segment === '..') {
    throw new UsageError(`a store key segment must not be "${segment}"`);
  }
  if (segment.includes('/') || segment.includes('\\')) {
    throw new UsageError(`a store key segment must not contain "/" or "\\": ${JSON.stringify(segment)}`);
  }
  if (CONTROL_CHARACTER.test(segment)) {
    throw new UsageError(`a store key segment must not contain control characters: ${JSON.stringify(segment)}`);
  }
  const bytes = Buffer.byteLength(segment, 'utf8');
  if (bytes > MAX_SEGMENT_BYTES) {
    throw new UsageError(`a store key segment must be at most ${MAX_SEGMENT_BYTES} bytes (this one has ${bytes})`);
  }
}
