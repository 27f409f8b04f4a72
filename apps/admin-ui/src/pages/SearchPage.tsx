import { useEffect, useState } from 'react';
import { endpoints } from '../api/endpoints';
import type { SearchHit } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatValue } from '../format';
import { href } from '../router';
import { useLoad, useSession } from '../session';

const DEBOUNCE_MS = 150;

/** Keys and values across every service's current config; each hit links to its field. */
export function SearchPage({ query }: { query: string }) {
  const { api } = useSession();
  const [debounced, setDebounced] = useState(query);
  const [tookMs, setTookMs] = useState<number>();
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(query), DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [query]);
  const hits = useLoad(
    async (signal) => {
      if (!debounced) return [];
      const started = performance.now();
      const result = await api.get<SearchHit[]>(endpoints.search(debounced), { signal });
      setTookMs(Math.round(performance.now() - started));
      return result;
    },
    [api, debounced],
  );
  return (
    <>
      <h1>Search</h1>
      {!query ? (
        <p className="muted">Type in the search box to find keys and values in every service.</p>
      ) : null}
      <ErrorNotice error={hits.error} title="Search failed" />
      {hits.data && debounced ? (
        <p role="status" className="muted">
          {hits.data.length === 0
            ? 'No matches'
            : `${hits.data.length} ${hits.data.length === 1 ? 'match' : 'matches'}`}{' '}
          for “{debounced}”{tookMs !== undefined ? ` in ${tookMs} ms` : ''}
          {hits.data.length >= 200 ? ' (the first 200; refine the search)' : ''}
        </p>
      ) : null}
      {hits.data && hits.data.length > 0 ? (
        <ul className="hits">
          {hits.data.map((hit) => {
            const secret = 'secret' in hit;
            const target = href(['services', hit.service, secret ? 'secrets' : 'config'], {
              field: hit.path,
            });
            return (
              <li key={`${hit.service}:${hit.path}`}>
                <a href={target}>
                  <span className="muted">{hit.service}</span> <code>{hit.path}</code>
                </a>{' '}
                {secret ? (
                  <span className="badge">{hit.set ? 'secret · set' : 'secret · not set'}</span>
                ) : (
                  <span className="hit-value">= {formatValue(hit.value)}</span>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </>
  );
}
