import { endpoints } from '../api/endpoints';
import type { ServiceSummary } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { InstanceBar } from '../components/InstanceBar';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { href } from '../router';
import { useLoad, useSession } from '../session';

/**
 * Every service: where its schema comes from, its schema and config versions, last change, and
 * how many instances run it; archived services apart, below.
 */
export function ServicesPage() {
  const { api, can } = useSession();
  const services = useLoad(
    (signal) => api.get<ServiceSummary[]>(endpoints.services(), { signal }),
    [api],
    5000,
  );
  const active = services.data?.filter((service) => service.archivedAt === null) ?? [];
  const archived = services.data?.filter((service) => service.archivedAt !== null) ?? [];
  return (
    <>
      <div className="inline heading-row">
        <h1>Services</h1>
        {can('admin') ? (
          <a className="button" href={href(['register'])}>
            Register service
          </a>
        ) : null}
      </div>
      <ErrorNotice error={services.error} title="Could not load the services" />
      {services.data === undefined ? (
        services.error ? null : (
          <Loading what="services" />
        )
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Origin</th>
                  <th scope="col">Schema</th>
                  <th scope="col">Version</th>
                  <th scope="col">Last change</th>
                  <th scope="col">Instances</th>
                </tr>
              </thead>
              <tbody>
                {active.map((service) => (
                  <tr key={service.service} data-testid={`service-${service.service}`}>
                    <td>
                      <a href={href(['services', service.service, 'config'])}>{service.service}</a>
                      <div className="muted small">{service.description}</div>
                    </td>
                    <td>
                      <Origin service={service} />
                    </td>
                    <td data-testid="schema-version">v{service.schemaVersion}</td>
                    <td data-testid="service-version">v{service.version}</td>
                    <td>
                      {formatTime(service.updatedAt)}
                      <div className="muted small">by {service.updatedBy}</div>
                    </td>
                    <td>
                      <InstanceBar
                        current={service.instances.onCurrentVersion}
                        older={
                          service.instances.total -
                          service.instances.offline -
                          service.instances.onCurrentVersion
                        }
                        offline={service.instances.offline}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {active.length === 0 ? <p className="muted">No active services.</p> : null}
          </div>
          {archived.length > 0 ? (
            <section aria-labelledby="archived-title" className="archived">
              <h2 id="archived-title">Archived</h2>
              <p className="muted small">
                Read-only: their history stays; registering one again restores it.
              </p>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Service</th>
                      <th scope="col">Origin</th>
                      <th scope="col">Schema</th>
                      <th scope="col">Last version</th>
                      <th scope="col">Archived</th>
                    </tr>
                  </thead>
                  <tbody>
                    {archived.map((service) => (
                      <tr key={service.service} data-testid={`archived-${service.service}`}>
                        <td>
                          <a href={href(['services', service.service, 'config'])}>
                            {service.service}
                          </a>
                          <div className="muted small">{service.description}</div>
                        </td>
                        <td>
                          <Origin service={service} />
                        </td>
                        <td>v{service.schemaVersion}</td>
                        <td>v{service.version}</td>
                        <td>{formatTime(service.archivedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ) : null}
        </>
      )}
    </>
  );
}

function Origin({ service }: { service: ServiceSummary }) {
  return service.origin === 'api' ? (
    <span title="registered over the API (PUT /api/services/:service)">API</span>
  ) : (
    <span title="registered by the manager's code">code</span>
  );
}
