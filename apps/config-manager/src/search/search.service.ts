import { Injectable } from '@nestjs/common';
import { flattenLeaves } from '@app/contracts';
import { ConfigsService } from '../configs/configs.service';

/** A search hit: a config value, or a secret that matched by name (never by value). */
export type SearchHit =
  | { service: string; path: string; value: unknown }
  | { service: string; path: string; secret: true; set: boolean };

const MAX_HITS = 200;

/** Case-insensitive search of keys and values across every service's current config. */
@Injectable()
export class SearchService {
  constructor(private readonly configs: ConfigsService) {}

  search(query: string): SearchHit[] {
    const needle = query.toLowerCase();
    const hits: SearchHit[] = [];
    for (const state of this.configs.list()) {
      const service = state.service;
      for (const { path, value } of flattenLeaves(state.config)) {
        if (path.toLowerCase().includes(needle) || stringify(value).includes(needle)) {
          hits.push({ service, path, value });
        }
      }
      for (const path of this.configs.definition(service).secretPaths) {
        if (path.toLowerCase().includes(needle)) {
          hits.push({ service, path, secret: true, set: state.secrets[path]?.set ?? false });
        }
      }
    }
    return hits.slice(0, MAX_HITS);
  }
}

function stringify(value: unknown): string {
  return (typeof value === 'string' ? value : JSON.stringify(value)).toLowerCase();
}
