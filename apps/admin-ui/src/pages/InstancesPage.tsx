import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatAgo, formatTime } from '../format';
import { useInstances } from '../hooks/useInstances';

/** The instances of the service and what they applied, most recently seen first; refreshes every two seconds. */
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
              <th scope="col">Status</th>
              <th scope="col">Applied version</th>
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
