import { useState } from 'react';
import { endpoints } from '../api/endpoints';
import type { ConfigResponse, ServiceSchema } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { useServiceSummary } from '../hooks/useServiceSummary';
import { href, navigate } from '../router';
import { useLoad, useSession } from '../session';
import { ConfigEditor } from './ConfigEditor';
import { HistoryPage } from './HistoryPage';
import { InstancesPage } from './InstancesPage';
import { RegistrationForm } from './RegistrationForm';
import { RolloutsPage } from './RolloutsPage';
import { SchemaHistoryPage } from './SchemaHistoryPage';
import { SecretsPage } from './SecretsPage';
import { ServiceActions } from './ServiceActions';
import { StartRolloutPage } from './StartRolloutPage';

const TABS = [
  ['config', 'Config'],
  ['secrets', 'Secrets'],
  ['history', 'History'],
  ['rollouts', 'Rollouts'],
  ['schema', 'Schema'],
  ['instances', 'Instances'],
] as const;

/**
 * One service: its config editor, secrets, history, rollouts, schema versions and instances, one
 * tab each; an archived service is shown read-only.
 */
export function ServicePage({
  service,
  tab,
  query,
}: {
  service: string;
  tab: string;
  /** The route's query: `field` (a config path), `id` (a rollout), `version` (to roll out). */
  query: URLSearchParams;
}) {
  const field = query.get('field') ?? undefined;
  const { api, can } = useSession();
  const schema = useLoad(
    (signal) => api.get<ServiceSchema>(endpoints.schema(service), { signal }),
    [api, service],
  );
  const config = useLoad(
    (signal) => api.get<ConfigResponse>(endpoints.config(service), { signal }),
    [api, service],
  );
  const summary = useServiceSummary(service);
  const [notice, setNotice] = useState<string>();
  const reloadAll = () => {
    schema.reload();
    config.reload();
    summary.reload();
  };
  const archived = summary.data?.archivedAt != null;
  const activeTab = tab === 'edit-schema' ? 'schema' : tab === 'start-rollout' ? 'rollouts' : tab;

  const header = (
    <>
      <p className="crumbs">
        <a href={href(['services'])}>Services</a> /
      </p>
      <h1>
        {service}
        {config.data ? <span className="version-badge">v{config.data.version}</span> : null}
        {summary.data ? (
          <>
            <span className="badge" data-testid="service-origin">
              {summary.data.origin === 'api' ? 'registered over the API' : 'registered by code'}
            </span>
            <span className="badge">schema v{summary.data.schemaVersion}</span>
            {archived ? <span className="badge badge-archived">archived</span> : null}
          </>
        ) : null}
      </h1>
      {config.data ? (
        <p className="muted">
          Changed {formatTime(config.data.updatedAt)} by {config.data.updatedBy}
          {config.data.published || archived ? '' : ' · not yet delivered to the broker'}
        </p>
      ) : null}
      {summary.data && schema.data ? (
        <ServiceActions summary={summary.data} schema={schema.data.schema} onChanged={reloadAll} />
      ) : null}
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <nav className="tabs" aria-label={`${service} sections`}>
        {TABS.map(([id, label]) => (
          <a
            key={id}
            href={href(['services', service, id])}
            aria-current={activeTab === id ? 'page' : undefined}
          >
            {label}
          </a>
        ))}
      </nav>
    </>
  );

  const error = schema.error ?? config.error ?? summary.error;
  if (schema.data === undefined || config.data === undefined || summary.data === undefined) {
    return (
      <>
        {header}
        <ErrorNotice error={error} title={`Could not load ${service}`} />
        {error ? null : <Loading what={service} />}
      </>
    );
  }
  if (summary.data === null) {
    return (
      <>
        {header}
        <p role="alert">There is no service {service}.</p>
      </>
    );
  }
  const current = summary.data;
  return (
    <>
      {header}
      {tab === 'config' ? (
        <ConfigEditor
          service={service}
          schema={schema.data}
          config={config.data}
          field={field}
          archived={archived}
          onSaved={config.reload}
        />
      ) : tab === 'secrets' ? (
        <SecretsPage
          service={service}
          schema={schema.data}
          config={config.data}
          archived={archived}
          onChanged={config.reload}
          field={field}
        />
      ) : tab === 'history' ? (
        <HistoryPage
          service={service}
          current={config.data.version}
          archived={archived}
          onRolledBack={config.reload}
        />
      ) : tab === 'rollouts' ? (
        <RolloutsPage
          service={service}
          rolloutId={query.get('id') ?? undefined}
          onMoved={() => {
            config.reload();
            summary.reload();
          }}
        />
      ) : tab === 'start-rollout' ? (
        <StartRolloutPage
          service={service}
          version={versionParam(query.get('version'))}
          current={config.data.version}
          archived={archived}
        />
      ) : tab === 'schema' ? (
        <SchemaHistoryPage service={service} summary={current} />
      ) : tab === 'edit-schema' ? (
        current.origin !== 'api' || archived || !can('admin') ? (
          <p role="alert">
            Only an admin can change the schema of an active service registered over the API.
          </p>
        ) : (
          <>
            <h2>Change the schema of {service}</h2>
            <RegistrationForm
              service={service}
              initial={{
                schema: schema.data.schema,
                description: current.description,
                config: config.data.config,
              }}
              onRegistered={(registration) => {
                setNotice(
                  registration.schemaChanged
                    ? `Saved schema version ${registration.schemaVersion}${registration.migrated ? `, config version ${registration.version} (a migration)` : ''}.`
                    : 'The schema is unchanged.',
                );
                reloadAll();
                navigate(['services', service, 'schema']);
              }}
            />
          </>
        )
      ) : (
        <InstancesPage service={service} current={config.data.version} />
      )}
    </>
  );
}

/** A version number from the route, or undefined when it is none. */
function versionParam(text: string | null): number | undefined {
  return text !== null && /^[1-9]\d{0,15}$/.test(text) ? Number(text) : undefined;
}
