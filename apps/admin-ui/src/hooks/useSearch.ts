// Searching keys and values across services as the admin types: debounced, timed.
import { useEffect, useState } from 'react';
import { endpoints } from '../api/endpoints';
import type { SearchHit } from '../api/types';
import { useLoad, useSession } from '../session';

const DEBOUNCE_MS = 150;

/** `query` is the text as typed; it is searched once it has stopped changing for a moment. */
export function useSearch(query: string) {
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
  return {
    /** The text the hits are for. */
    searched: debounced,
    tookMs,
    hits: hits.data,
    error: hits.error,
  };
}
