import { Injectable } from '@nestjs/common';
import { ConfigReadsService } from '../configs/config-reads.service';
import type { SearchHit } from '@app/contracts';
import { type SearchSource, searchConfigs } from './search-configs';

/** Searches the current config of every service (served from memory, never from the store). */
@Injectable()
export class SearchService {
  constructor(private readonly configs: ConfigReadsService) {}

  search(query: string): SearchHit[] {
    return searchConfigs(this.sources(), query);
  }

  private *sources(): Iterable<SearchSource> {
    for (const state of this.configs.list()) {
      yield {
        service: state.service,
        config: state.config,
        secretPaths: this.configs.definition(state.service).secretPaths,
        secretSet: (path) => state.secrets[path]?.set ?? false,
      };
    }
  }
}
