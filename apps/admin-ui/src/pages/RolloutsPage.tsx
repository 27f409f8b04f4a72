import { useEffect } from 'react';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { RolloutStateBadge } from '../components/RolloutStateBadge';
import { formatTime } from '../format';
import { useRollouts } from '../hooks/useRollouts';
import { href } from '../router';
import { useSession } from '../session';
import { RolloutDetail } from './RolloutDetail';

/**
 * A service's rollouts, newest first, and one of them in full (the one picked, else the one under
 * way, else the newest), kept live while it moves.
 */
export function RolloutsPage(props: {
  service: string;
  rolloutId?: string;
  /** The shown rollout moved (a completion or a rollback changes the current version). */
  onMoved: () => void;
}) {
  const { can } = useSession();
  const rollouts = useRollouts(props.service, props.rolloutId);
  const moved = `${rollouts.shown?.id}:${rollouts.shown?.state}:${rollouts.shown?.step}`;
  useEffect(() => {
    if (rollouts.shown !== undefined) props.onMoved();
    // Only a move of the rollout matters, not a new callback.
  }, [moved]);
  if (rollouts.rollouts === undefined) {
    return rollouts.listError ? (
      <ErrorNotice error={rollouts.listError} title="Could not load the rollouts" />
    ) : (
      <Loading what="rollouts" />
    );
  }
  const how = can('config:write') ? (
    <p className="muted">
      To start one, stage a change (Config, “Stage (don&apos;t publish)”), then roll it out from{' '}
      <a href={href(['services', props.service, 'history'])}>the history</a>.
    </p>
  ) : null;
  if (rollouts.rollouts.length === 0 && props.rolloutId === undefined) {
    return (
      <>
        <p>No rollout of {props.service} yet.</p>
        {how}
      </>
    );
  }
  const shownId = rollouts.shown?.id;
  return (
    <>
      <ErrorNotice error={rollouts.listError} title="Refresh failed" />
      <ErrorNotice error={rollouts.shownError} title="Could not load the rollout" />
      {rollouts.shown ? (
        <RolloutDetail rollout={rollouts.shown} live={rollouts.live} onChanged={rollouts.reload} />
      ) : rollouts.shownError ? null : (
        <Loading what="the rollout" />
      )}
      <h2>All rollouts</h2>
      {how}
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Rollouts of {props.service}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Rollout</th>
              <th scope="col">State</th>
              <th scope="col">Version</th>
              <th scope="col">Stable version</th>
              <th scope="col">Started by</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {rollouts.rollouts.map((rollout) => (
              <tr
                key={rollout.id}
                data-testid={`rollout-${rollout.id}`}
                className={rollout.id === shownId ? 'selected' : undefined}
              >
                <th scope="row">
                  <a
                    href={href(['services', props.service, 'rollouts'], { id: rollout.id })}
                    aria-current={rollout.id === shownId ? 'true' : undefined}
                  >
                    <code>{rollout.id}</code>
                  </a>
                </th>
                <td>
                  <RolloutStateBadge state={rollout.state} />
                </td>
                <td>v{rollout.version}</td>
                <td>v{rollout.stableVersion}</td>
                <td>{rollout.createdBy}</td>
                <td>{formatTime(rollout.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
