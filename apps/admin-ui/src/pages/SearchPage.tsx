import { ErrorNotice } from '../components/ErrorNotice';
import { formatValue } from '../format';
import { useSearch } from '../hooks/useSearch';
import { href } from '../router';

/** Keys and values across every service's current config; each hit links to its field. */
export function SearchPage({ query }: { query: string }) {
  const { searched, tookMs, hits, error } = useSearch(query);
  return (
    <>
      <h1>Search</h1>
      {!query ? (
        <p className="muted">Type in the search box to find keys and values in every service.</p>
      ) : null}
      <ErrorNotice error={error} title="Search failed" />
      {hits && searched ? (
        <p role="status" className="muted">
          {hits.length === 0
            ? 'No matches'
            : `${hits.length} ${hits.length === 1 ? 'match' : 'matches'}`}{' '}
          for “{searched}”{tookMs !== undefined ? ` in ${tookMs} ms` : ''}
          {hits.length >= 200 ? ' (the first 200; refine the search)' : ''}
        </p>
      ) : null}
      {hits && hits.length > 0 ? (
        <ul className="hits">
          {hits.map((hit) => {
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
