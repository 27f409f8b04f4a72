import { endpoints } from '../api/endpoints';
import type { ServiceSummary } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { InstanceBar } from '../components/InstanceBar';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { href } from '../router';
import { useLoad, useSession } from '../session';

/** Every service: current version, last change, and how many instances run it. */
export function ServicesPage() {
  const { api } = useSession();
  const services = useLoad(
    (signal) => api.get<ServiceSummary[]>(endpoints.services(), { signal }),
    [api],
    5000,
  );
  return (
    <>
      <h1>Services</h1>
      <ErrorNotice error={services.error} title="Could not load the services" />
      {services.data === undefined ? (
        services.error ? null : (
          <Loading what="services" />
        )
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Version</th>
                <th scope="col">Last change</th>
                <th scope="col">Instances</th>
              </tr>
            </thead>
            <tbody>
              {services.data.map((service) => (
                <tr key={service.service}>
                  <td>
                    <a href={href(['services', service.service, 'config'])}>{service.service}</a>
                    <div className="muted small">{service.description}</div>
                  </td>
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
        </div>
      )}
    </>
  );
}
