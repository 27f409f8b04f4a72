import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatAgo, formatTime } from '../format';
import { useInstances } from '../hooks/useInstances';
import type { InstanceView } from '../api/types';

/**
 * The instances of the service, their labels, what they applied and how their runs went, most
 * recently seen first; refreshes every two seconds.
 */
export function InstancesPage({ service, current }: { service: string; current: number }) {
  const loaded = useInstances(service);
  if (loaded.data === undefined) {
    return loaded.error ? (
      <ErrorNotice error={loaded.error} title="Could not load the instances" />
    ) : (
      <Loading what="instances" />
    );
  }
  const { instances, total } = loaded.data;
  if (instances.length === 0) {
    return (
      <p>
        No instance of {service} has reported yet. Workers report when they connect to the broker.
      </p>
    );
  }
  return (
    <>
      <ErrorNotice error={loaded.error} title="Refresh failed" />
      {total > instances.length ? (
        <p className="muted" role="status">
          The {instances.length} most recently seen of {total} instances.
        </p>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Labels</th>
              <th scope="col">Status</th>
              <th scope="col">Applied version</th>
              <th scope="col">Runs</th>
              <th scope="col">Last seen</th>
              <th scope="col">Last rejection</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((instance) => (
              <tr key={instance.instanceId} data-testid={`instance-${instance.instanceId}`}>
                <th scope="row">
                  <code>{instance.instanceId}</code>
                </th>
                <td data-testid="labels">
                  <Labels labels={instance.labels} />
                </td>
                <td>
                  <span className={`status status-${instance.status}`}>{instance.status}</span>
                  {instance.offlineSince ? (
                    <div className="muted small">since {formatTime(instance.offlineSince)}</div>
                  ) : null}
                  {instance.schemaDrift ? (
                    <span className="badge" title="the worker's schema differs from the manager's">
                      schema drift
                    </span>
                  ) : null}
                  {instance.stale === true && instance.status !== 'offline' ? (
                    <span
                      className="badge badge-stale"
                      data-testid="stale"
                      title="nothing attested its config for longer than its CONFIG_MAX_STALENESS: check its broker connection and ACL, and the manager's heartbeat"
                    >
                      stale
                    </span>
                  ) : null}
                  {instance.attestedAt ? (
                    <div className="muted small" title={formatTime(instance.attestedAt)}>
                      attested {formatAgo(instance.attestedAt)}
                    </div>
                  ) : null}
                </td>
                <td data-testid="applied-version">
                  {instance.appliedVersion === null ? '—' : `v${instance.appliedVersion}`}
                  {instance.appliedVersion !== null && instance.appliedVersion < current ? (
                    <span className="muted"> (behind v{current})</span>
                  ) : null}
                  {instance.stagedVersion !== null &&
                  instance.stagedVersion !== instance.appliedVersion ? (
                    <div className="muted small">
                      v{instance.stagedVersion} staged for the next run
                    </div>
                  ) : null}
                </td>
                <td data-testid="runs">
                  <RunOutcomes instance={instance} />
                </td>
                <td title={formatTime(instance.lastSeen)}>{formatAgo(instance.lastSeen)}</td>
                <td>
                  {instance.lastRejection ? (
                    <>
                      {instance.lastRejection.version !== undefined
                        ? `v${instance.lastRejection.version}: `
                        : ''}
                      {instance.lastRejection.reason}
                      <div className="muted small">{formatTime(instance.lastRejection.at)}</div>
                    </>
                  ) : (
                    <span className="muted">none</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Labels({ labels }: { labels: InstanceView['labels'] }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="labels">
      {entries.map(([key, value]) => (
        <li key={key}>
          <code>
            {key}={value}
          </code>
        </li>
      ))}
    </ul>
  );
}

/** Runs finished on the version the last run used, and the last run's outcome. */
function RunOutcomes({ instance }: { instance: InstanceView }) {
  const { runs, lastRun } = instance;
  if (!runs && !lastRun) return <span className="muted">none reported</span>;
  return (
    <>
      {runs ? (
        <div>
          {`${runs.completed} completed, `}
          {runs.failed > 0 ? (
            <span className="run-failed">{runs.failed} failed</span>
          ) : (
            '0 failed'
          )}{' '}
          on v{runs.version}
        </div>
      ) : null}
      {lastRun ? (
        <div className="muted small" title={formatTime(lastRun.at)}>
          last run{' '}
          <span className={lastRun.ok ? 'run-ok' : 'run-failed'}>
            {lastRun.ok ? 'ok' : 'failed'}
          </span>{' '}
          on v{lastRun.version}, {formatAgo(lastRun.at)}
        </div>
      ) : null}
    </>
  );
}
