import { endpoints } from '../api/endpoints';
import type { ConfigResponse, ServiceSchema } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { href } from '../router';
import { useLoad, useSession } from '../session';
import { ConfigEditor } from './ConfigEditor';
import { HistoryPage } from './HistoryPage';
import { InstancesPage } from './InstancesPage';
import { SecretsPage } from './SecretsPage';

const TABS = [
  ['config', 'Config'],
  ['secrets', 'Secrets'],
  ['history', 'History'],
  ['instances', 'Instances'],
] as const;

/** One service: its config editor, secrets, history and instances, one tab each. */
export function ServicePage({
  service,
  tab,
  field,
}: {
  service: string;
  tab: string;
  field?: string;
}) {
  const { api } = useSession();
  const schema = useLoad(
    (signal) => api.get<ServiceSchema>(endpoints.schema(service), { signal }),
    [api, service],
  );
  const config = useLoad(
    (signal) => api.get<ConfigResponse>(endpoints.config(service), { signal }),
    [api, service],
  );

  const header = (
    <>
      <p className="crumbs">
        <a href={href(['services'])}>Services</a> /
      </p>
      <h1>
        {service}
        {config.data ? <span className="version-badge">v{config.data.version}</span> : null}
      </h1>
      {config.data ? (
        <p className="muted">
          Changed {formatTime(config.data.updatedAt)} by {config.data.updatedBy}
          {config.data.published ? '' : ' · not yet delivered to the broker'}
        </p>
      ) : null}
      <nav className="tabs" aria-label={`${service} sections`}>
        {TABS.map(([id, label]) => (
          <a
            key={id}
            href={href(['services', service, id])}
            aria-current={tab === id ? 'page' : undefined}
          >
            {label}
          </a>
        ))}
      </nav>
    </>
  );

  const error = schema.error ?? config.error;
  if (schema.data === undefined || config.data === undefined) {
    return (
      <>
        {header}
        <ErrorNotice error={error} title={`Could not load ${service}`} />
        {error ? null : <Loading what={service} />}
      </>
    );
  }
  return (
    <>
      {header}
      {tab === 'config' ? (
        <ConfigEditor
          service={service}
          schema={schema.data}
          config={config.data}
          field={field}
          onSaved={config.reload}
        />
      ) : tab === 'secrets' ? (
        <SecretsPage
          service={service}
          schema={schema.data}
          config={config.data}
          onChanged={config.reload}
          field={field}
        />
      ) : tab === 'history' ? (
        <HistoryPage service={service} current={config.data.version} onRolledBack={config.reload} />
      ) : (
        <InstancesPage service={service} current={config.data.version} />
      )}
    </>
  );
}
