/** What config-manager publishes, retained, on `system/health/config-manager`. */
export interface ManagerStatus {
  service: 'config-manager';
  instanceId: string;
  status: 'online' | 'offline';
  /** Current version of every service, when online. */
  versions?: Record<string, number>;
  at: string;
}

/** The status published after each (re)connection. */
export function onlineStatus(instanceId: string, versions: Record<string, number>): ManagerStatus {
  return {
    service: 'config-manager',
    instanceId,
    status: 'online',
    versions,
    at: new Date().toISOString(),
  };
}

/** The status published at shutdown, and left with the broker as the last will. */
export function offlineStatus(instanceId: string): ManagerStatus {
  return { service: 'config-manager', instanceId, status: 'offline', at: new Date().toISOString() };
}
