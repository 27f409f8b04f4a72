/** Instance id of every config-manager status: the service segment of its health topic. */
export const MANAGER_SERVICE = 'config-manager';

/** What config-manager publishes, retained, on `system/health/config-manager`. */
export interface ManagerStatus {
  readonly service: typeof MANAGER_SERVICE;
  readonly instanceId: string;
  readonly status: 'online' | 'offline';
  /** Current version of every service, when online. */
  readonly versions?: Readonly<Record<string, number>>;
  /** @format date-time */
  readonly at: string;
}

/** The status a manager publishes after each (re)connection. */
export function managerOnline(instanceId: string, versions: Record<string, number>): ManagerStatus {
  return {
    service: MANAGER_SERVICE,
    instanceId,
    status: 'online',
    versions,
    at: new Date().toISOString(),
  };
}

/** The status a manager publishes at shutdown and leaves with the broker as its last will. */
export function managerOffline(instanceId: string): ManagerStatus {
  return { service: MANAGER_SERVICE, instanceId, status: 'offline', at: new Date().toISOString() };
}
