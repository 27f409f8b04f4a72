// One service's entry of the services list (origin, schema version, archived or not): the API
// has no per-service summary, so it is picked from GET /api/services.
import { endpoints } from '../api/endpoints';
import type { ServiceSummary } from '../api/types';
import { useLoad, useSession, type Loaded } from '../session';

/** `data` is null once loaded when the list has no such service. */
export function useServiceSummary(service: string): Loaded<ServiceSummary | null> {
  const { api } = useSession();
  return useLoad(
    async (signal) =>
      (await api.get<ServiceSummary[]>(endpoints.services(), { signal })).find(
        (summary) => summary.service === service,
      ) ?? null,
    [api, service],
  );
}
