import type {
  AuditEntry,
  ConfigResponse,
  InstanceView,
  RolloutRequest,
  RolloutView,
  VersionSummary,
} from '@app/contracts';

const SERVICE_PATH = '/api/services/dedup-worker';
const REQUEST_TIMEOUT_MS = 15_000;

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** GET/PATCH …/config (the fields the harness reads). */
export type ConfigState = Pick<ConfigResponse, 'version' | 'config'>;

export interface PatchOptions {
  ifMatch?: number;
  reason?: string;
}

/** The config-manager REST API for the dedup-worker service, as an admin. */
export class ManagerApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  config(): Promise<ApiResponse<ConfigState>> {
    return this.request('GET', `${SERVICE_PATH}/config`);
  }

  /** PATCH with a JSON value, or with `body` sent as is when it is a string (fuzzing). */
  patch(body: unknown, options: PatchOptions = {}): Promise<ApiResponse<ConfigState>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = `"${options.ifMatch}"`;
    if (options.reason !== undefined) headers['X-Change-Reason'] = options.reason;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return this.request('PATCH', `${SERVICE_PATH}/config`, text, headers);
  }

  /** PATCH with `X-Publish: staged`: a new version that is not published (X-Staged-Version). */
  stage(body: unknown): Promise<ApiResponse<ConfigState>> {
    return this.request('PATCH', `${SERVICE_PATH}/config`, JSON.stringify(body), {
      'X-Publish': 'staged',
    });
  }

  createRollout(request: RolloutRequest): Promise<ApiResponse<RolloutView>> {
    return this.request('POST', `${SERVICE_PATH}/rollouts`, JSON.stringify(request));
  }

  rollout(id: string): Promise<ApiResponse<RolloutView>> {
    return this.request('GET', `${SERVICE_PATH}/rollouts/${encodeURIComponent(id)}`);
  }

  versions(limit: number): Promise<ApiResponse<VersionSummary[]>> {
    return this.request('GET', `${SERVICE_PATH}/versions?limit=${limit}`);
  }

  version(version: number): Promise<ApiResponse<ConfigState>> {
    return this.request('GET', `${SERVICE_PATH}/versions/${version}`);
  }

  /** One page of the instance view (`query` like `?limit=1000&offset=0`; the default page is 200). */
  instances(query = ''): Promise<ApiResponse<InstanceView[]>> {
    return this.request('GET', `${SERVICE_PATH}/instances${query}`);
  }

  /** The newest `limit` audit entries of the service (GET /api/audit). */
  audit(limit: number): Promise<ApiResponse<AuditEntry[]>> {
    return this.request('GET', `/api/audit?service=dedup-worker&limit=${limit}`);
  }

  /** The manager's Prometheus text. */
  async metrics(): Promise<string> {
    return String((await this.request<unknown>('GET', '/metrics')).body);
  }

  ready(): Promise<ApiResponse<{ status: string }>> {
    return this.request('GET', '/health/ready');
  }

  republish(): Promise<ApiResponse<unknown>> {
    return this.request('POST', `${SERVICE_PATH}/republish`);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: parseJson(text) as T };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
