// A service's instances, most recently seen first, with the total; refreshed every two seconds.
import { endpoints } from '../api/endpoints';
import type { InstanceView } from '../api/types';
import { useLoad, useSession, type Loaded } from '../session';

const REFRESH_MS = 2000;
/** The most instances the page lists (the manager's largest page); the total is always shown. */
const PAGE = 1000;

export interface InstancePage {
  instances: InstanceView[];
  /** Every instance the manager knows, listed or not (its X-Total-Count). */
  total: number;
}

export function useInstances(service: string): Loaded<InstancePage> {
  const { api } = useSession();
  return useLoad(
    async (signal): Promise<InstancePage> => {
      const { data, headers } = await api.request<InstanceView[]>(
        'GET',
        endpoints.instances(service, { limit: PAGE }),
        { signal },
      );
      return { instances: data, total: Number(headers.get('X-Total-Count') ?? data.length) };
    },
    [api, service],
    REFRESH_MS,
  );
}
