import { useEffect, useState } from 'react';

/** Where the page is: `#/services/dedup-worker/config?field=thresholds.high`. */
export interface Route {
  /** Path segments, decoded: `['services', 'dedup-worker', 'config']`. */
  readonly parts: string[];
  readonly query: URLSearchParams;
}

function current(): Route {
  const hash = window.location.hash.replace(/^#/, '') || '/services';
  const [path, search = ''] = hash.split('?', 2);
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

/** The current hash route; re-renders on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A hash link: `href(['services', name, 'config'], { field: 'a.b' })`. */
export function href(parts: string[], query: Record<string, string> = {}): string {
  const search = new URLSearchParams(query).toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
}

/** Goes to a route; `replace` does not add a history entry (search as you type). */
export function navigate(
  parts: string[],
  query: Record<string, string> = {},
  replace = false,
): void {
  if (replace) window.location.replace(href(parts, query));
  else window.location.hash = href(parts, query);
}
