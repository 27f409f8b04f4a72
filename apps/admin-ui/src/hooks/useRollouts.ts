// A service's rollouts (newest first) and the one shown: the one asked for, else the active one,
// else the newest. The shown one is polled while it is under way, the list more slowly.
import { useEffect, useState } from 'react';
import { endpoints } from '../api/endpoints';
import type { RolloutView } from '../api/types';
import { isActive } from '../rollouts/rollout-text';
import { useLoad, useSession } from '../session';

/** How often a rollout under way is fetched again. */
const LIVE_MS = 1500;
/** How often the list is while one of its rollouts is under way, and otherwise. */
const LIST_MS = 3000;
const IDLE_MS = 5000;

export function useRollouts(service: string, selectedId: string | undefined) {
  const { api } = useSession();
  const [anyActive, setAnyActive] = useState(false);
  const list = useLoad(
    (signal) => api.get<RolloutView[]>(endpoints.rollouts(service), { signal }),
    [api, service],
    anyActive ? LIST_MS : IDLE_MS,
  );
  const listActive = list.data?.some((rollout) => isActive(rollout.state)) ?? false;
  useEffect(() => setAnyActive(listActive), [listActive]);
  const shownId =
    selectedId ?? (list.data?.find((rollout) => isActive(rollout.state)) ?? list.data?.[0])?.id;
  const fromList = list.data?.find((rollout) => rollout.id === shownId);

  const detail = useLoad(
    (signal) =>
      shownId === undefined
        ? Promise.resolve(undefined)
        : api.get<RolloutView>(endpoints.rollout(service, shownId), { signal }),
    [api, service, shownId],
    // Until the list says it ended (a rollout not in the list yet is a new one).
    shownId !== undefined && (fromList === undefined || isActive(fromList.state))
      ? LIVE_MS
      : undefined,
  );
  // The detail of another rollout (the previous selection) is not this one's.
  const shown = detail.data?.id === shownId ? detail.data : fromList;
  const live = shown !== undefined && isActive(shown.state);
  // The list says the same as the detail as soon as the detail moves.
  const moved = `${shown?.id}:${shown?.state}:${shown?.step}`;
  useEffect(() => {
    if (fromList !== undefined && shown !== undefined && shown.state !== fromList.state)
      list.reload();
    // Only a move matters, not new data of the same state.
  }, [moved]);

  const reload = () => {
    list.reload();
    detail.reload();
  };
  return {
    rollouts: list.data,
    listError: list.error,
    shown,
    shownError: detail.error,
    /** Whether the shown rollout is still under way (and so polled). */
    live,
    reload,
  };
}
