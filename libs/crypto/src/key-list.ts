import { CryptoError, CryptoErrorCode } from './crypto.error';
import { decodeBase64Key } from './key-codec';

// A key id or service name: no ':' or ',' (the separators), no leading punctuation.
const KEY_LIST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One `id:base64Key` item of a key list setting such as CONFIG_TRUSTED_KEYS. */
export interface KeyListEntry {
  id: string;
  key: Buffer;
}

/**
 * Parses `id:base64Key,id2:base64Key` (CONFIG_TRUSTED_KEYS, SERVICE_RECIPIENT_KEYS). Errors name
 * the setting `name` and the item's position (and id once it is known valid), never a key value.
 * An empty or blank value gives an empty list: whether that is allowed is the caller's decision.
 */
export function parseKeyList(value: string, expectedBytes: number, name: string): KeyListEntry[] {
  const entries: KeyListEntry[] = [];
  const positionById = new Map<string, number>();
  value.split(',').forEach((raw, index) => {
    const item = raw.trim();
    if (item === '') {
      return;
    }
    // Positions count every comma-separated item, blanks included, so they match the raw text.
    const where = `${name} item ${index + 1}`;
    const separator = item.indexOf(':');
    if (separator < 0) {
      throw invalid(`${where} must be id:base64Key`);
    }
    const id = item.slice(0, separator).trim();
    checkId(id, where);
    const first = positionById.get(id);
    if (first !== undefined) {
      throw invalid(`${where} repeats id ${id} (first at item ${first})`);
    }
    positionById.set(id, index + 1);
    const key = decodeBase64Key(item.slice(separator + 1), expectedBytes, `${where} (${id})`);
    entries.push({ id, key });
  });
  return entries;
}

/** Formats entries as `id:base64Key,…`, the inverse of parseKeyList; refuses what would not parse back. */
export function formatKeyList(entries: readonly KeyListEntry[], name = 'key list'): string {
  const seen = new Set<string>();
  return entries
    .map(({ id, key }, index) => {
      const where = `${name} entry ${index + 1}`;
      checkId(id, where);
      if (seen.has(id)) {
        throw invalid(`${where} repeats id ${id}`);
      }
      seen.add(id);
      if (key.length === 0) {
        throw invalid(`${where} (${id}) has an empty key`);
      }
      return `${id}:${key.toString('base64')}`;
    })
    .join(',');
}

function checkId(id: string, where: string): void {
  // The bad id is not echoed: a swapped "key:id" item would otherwise print the key.
  if (!KEY_LIST_ID.test(id)) {
    throw invalid(
      `${where} has an invalid id (1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit)`,
    );
  }
}

function invalid(message: string): CryptoError {
  return new CryptoError(CryptoErrorCode.InvalidKey, message);
}
