import { flattenLeaves, type SearchHit } from '@app/contracts';

/** What the search reads of one service: its current config and which secrets are set. */
export interface SearchSource {
  readonly service: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly secretPaths: readonly string[];
  readonly secretSet: (path: string) => boolean;
}

/** Most hits returned; a query that matches more should be refined. */
export const MAX_HITS = 200;

/**
 * Case-insensitive search of keys and values across services, in service then key order. Secret
 * paths match by name only: their values are never part of `config`.
 */
export function searchConfigs(sources: Iterable<SearchSource>, query: string): SearchHit[] {
  const needle = query.toLowerCase();
  const hits: SearchHit[] = [];
  for (const source of sources) {
    for (const { path, value } of flattenLeaves(source.config)) {
      if (path.toLowerCase().includes(needle) || stringify(value).includes(needle)) {
        hits.push({ service: source.service, path, value });
        if (hits.length === MAX_HITS) return hits;
      }
    }
    for (const path of source.secretPaths) {
      if (path.toLowerCase().includes(needle)) {
        hits.push({ service: source.service, path, secret: true, set: source.secretSet(path) });
        if (hits.length === MAX_HITS) return hits;
      }
    }
  }
  return hits;
}

function stringify(value: unknown): string {
  return (typeof value === 'string' ? value : JSON.stringify(value)).toLowerCase();
}
