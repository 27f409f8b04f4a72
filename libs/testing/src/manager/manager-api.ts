import { randomBytes } from 'node:crypto';
import type {
  AuditEntry,
  ErrorBody,
  ChangeEntry,
  ImportResult,
  ConfigResponse,
  InstanceView,
  MatchingConfig,
  PublishedSigningKey,
  RolloutRequest,
  RolloutView,
  SchemaVersionDetail,
  SchemaVersionSummary,
  SearchHit,
  SecretState,
  ServiceRegistration,
  SignedEnvelope,
  ServiceRegistrationRequest,
  ServiceSchemaResponse,
  ServiceSummary,
  VersionSummary,
  WhoAmI,
} from '@app/contracts';
import type TestAgent from 'supertest/lib/agent';
import { ApiCall } from './api-call';
import { bearer } from './manager-env';

/** The config type of each registered service. */
export interface ServiceConfigs {
  'dedup-worker': MatchingConfig;
}

/** The config of `S` (a registered service), or an untyped object for any other name. */
export type ConfigOf<S extends string> = S extends keyof ServiceConfigs
  ? ServiceConfigs[S]
  : Readonly<Record<string, unknown>>;

/** GET/PATCH/PUT …/config and POST …/rollback, with the service's config type. */
export type ConfigBody<C> = Omit<ConfigResponse, 'config'> & { config: C };

/** GET …/versions/:version: one version's summary, config and secret flags. */
export type VersionBody<C> = VersionSummary & {
  service: string;
  config: C;
  secrets: Record<string, SecretState>;
};

/** POST …/republish. */
export interface RepublishBody {
  service: string;
  version: number;
  published: true;
}

/** GET /health/ready: the status of each check (database, broker, retainedConfigs) and its details. */
export interface ReadinessBody {
  status: 'ready' | 'not ready';
  checks: Record<string, { status: string; [detail: string]: unknown }>;
}

/** GET/PATCH /api/config, the compatibility façade: dedup-worker's sections at top level. */
export type FacadeBody = MatchingConfig & { has_api_key: boolean; updated_at: string | null };

/** Headers of a write: If-Match (a version, quoted for you, or the raw header), a reason, X-Publish. */
export interface WriteOptions {
  ifMatch?: number | string;
  reason?: string;
  /** X-Publish: `staged` creates the version without publishing it; any other text is sent as is. */
  publish?: 'now' | 'staged' | (string & {});
}

/** Paging of history and audit. */
export type PageQuery = { limit?: number; before?: number };

/**
 * config-manager's REST API for the end-to-end tests, on supertest against the app in this
 * process: one method per endpoint with typed bodies (from @app/contracts), sent with a bearer
 * token (the admin's unless `as` says otherwise). Raw requests (malformed bodies, raw bytes,
 * odd headers) stay with the manager's `http()`.
 */
export class ManagerApi {
  constructor(
    private readonly http: () => TestAgent,
    private readonly token: string,
  ) {}

  /** The same API with another token. */
  as(token: string): ManagerApi {
    return new ManagerApi(this.http, token);
  }

  services(): ApiCall<ServiceSummary[]> {
    return this.call('get', '/api/services');
  }

  schema(service: string): ApiCall<ServiceSchemaResponse> {
    return this.call('get', `/api/services/${service}/schema`);
  }

  /** Registers a service, changes its schema or restores it (201 when new, else 200). */
  registerService(
    service: string,
    body: ServiceRegistrationRequest | object,
    options: Pick<WriteOptions, 'reason'> = {},
  ): ApiCall<ServiceRegistration> {
    return this.call('put', `/api/services/${service}`, body, writeHeaders(options));
  }

  /** One version (default: the current one) as a bundle signed by this manager. */
  exportBundle(service: string, version?: number): ApiCall<SignedEnvelope> {
    const query = version === undefined ? '' : `?version=${version}`;
    return this.call('get', `/api/services/${service}/export${query}`);
  }

  /** Imports another environment's bundle (`dryRun`: only the preview). */
  importBundle(
    service: string,
    bundle: object,
    options: Pick<WriteOptions, 'reason'> & { dryRun?: boolean } = {},
  ): ApiCall<ImportResult> {
    const query = options.dryRun === true ? '?dryRun=true' : '';
    return this.call(
      'post',
      `/api/services/${service}/import${query}`,
      bundle,
      writeHeaders(options),
    );
  }

  /** Archives a service (its history stays; re-registering restores it). */
  archiveService(
    service: string,
    options: Pick<WriteOptions, 'reason'> = {},
  ): ApiCall<ServiceRegistration> {
    return this.call('delete', `/api/services/${service}`, undefined, writeHeaders(options));
  }

  /** Schema versions, newest first. */
  schemas(service: string): ApiCall<SchemaVersionSummary[]> {
    return this.call('get', `/api/services/${service}/schemas`);
  }

  schemaVersion(service: string, schemaVersion: number | string): ApiCall<SchemaVersionDetail> {
    return this.call('get', `/api/services/${service}/schemas/${schemaVersion}`);
  }

  config<S extends string>(service: S): ApiCall<ConfigBody<ConfigOf<S>>> {
    return this.call('get', `/api/services/${service}/config`);
  }

  /** Deep-merges `body` into the config. */
  patchConfig<S extends string>(
    service: S,
    body: object,
    options: WriteOptions = {},
  ): ApiCall<ConfigBody<ConfigOf<S>>> {
    return this.call('patch', `/api/services/${service}/config`, body, writeHeaders(options));
  }

  /** Replaces the whole config (omitted fields take schema defaults). */
  putConfig<S extends string>(
    service: S,
    body: object,
    options: WriteOptions = {},
  ): ApiCall<ConfigBody<ConfigOf<S>>> {
    return this.call('put', `/api/services/${service}/config`, body, writeHeaders(options));
  }

  /** History, newest first. */
  versions(service: string, query: PageQuery = {}): ApiCall<VersionSummary[]> {
    return this.call('get', `/api/services/${service}/versions${queryString(query)}`);
  }

  version<S extends string>(service: S, version: number): ApiCall<VersionBody<ConfigOf<S>>> {
    return this.call('get', `/api/services/${service}/versions/${version}`);
  }

  diff(service: string, from: number, to: number): ApiCall<ChangeEntry[]> {
    return this.call('get', `/api/services/${service}/diff${queryString({ from, to })}`);
  }

  rollback<S extends string>(
    service: S,
    toVersion: number,
    options: WriteOptions = {},
  ): ApiCall<ConfigBody<ConfigOf<S>>> {
    return this.call(
      'post',
      `/api/services/${service}/rollback`,
      { toVersion },
      writeHeaders(options),
    );
  }

  /** Sets a secret ('' clears it); 204 with the version as ETag (X-Staged-Version when staged). */
  putSecret(
    service: string,
    path: string,
    value: string,
    options: Pick<WriteOptions, 'reason' | 'publish'> = {},
  ): ApiCall<void> {
    return this.call(
      'put',
      `/api/services/${service}/secrets/${path}`,
      { value },
      writeHeaders(options),
    );
  }

  deleteSecret(
    service: string,
    path: string,
    options: Pick<WriteOptions, 'publish'> = {},
  ): ApiCall<void> {
    return this.call(
      'delete',
      `/api/services/${service}/secrets/${path}`,
      undefined,
      writeHeaders(options),
    );
  }

  republish(service: string): ApiCall<RepublishBody> {
    return this.call('post', `/api/services/${service}/republish`);
  }

  /** One page of the instance view (the total is the X-Total-Count header). */
  instances(
    service: string,
    query: { limit?: number; offset?: number } = {},
  ): ApiCall<InstanceView[]> {
    return this.call('get', `/api/services/${service}/instances${queryString(query)}`);
  }

  /** Starts a rollout of a staged version (201). */
  createRollout(service: string, body: RolloutRequest | object): ApiCall<RolloutView> {
    return this.call('post', `/api/services/${service}/rollouts`, body);
  }

  /** A service's rollouts, newest first. */
  rollouts(service: string, query: { limit?: number } = {}): ApiCall<RolloutView[]> {
    return this.call('get', `/api/services/${service}/rollouts${queryString(query)}`);
  }

  rollout(service: string, id: string): ApiCall<RolloutView> {
    return this.call('get', `/api/services/${service}/rollouts/${id}`);
  }

  /** POST …/rollouts/:id/pause | resume | abort | promote. */
  rolloutAction(
    service: string,
    id: string,
    action: 'pause' | 'resume' | 'abort' | 'promote',
  ): ApiCall<RolloutView> {
    return this.call('post', `/api/services/${service}/rollouts/${id}/${action}`);
  }

  audit(query: PageQuery & { service?: string } = {}): ApiCall<AuditEntry[]> {
    return this.call('get', `/api/audit${queryString(query)}`);
  }

  search(q: string): ApiCall<SearchHit[]> {
    return this.call('get', `/api/search${queryString({ q })}`);
  }

  facadeConfig(): ApiCall<FacadeBody> {
    return this.call('get', '/api/config');
  }

  /** A partial update in the façade's shape (`ai_api_key` sets the secret). */
  patchFacadeConfig(body: object): ApiCall<FacadeBody> {
    return this.call('patch', '/api/config', body);
  }

  me(): ApiCall<WhoAmI> {
    return this.call('get', '/api/me');
  }

  /** The public signing keys (no token needed). */
  keys(): ApiCall<{ signing: PublishedSigningKey[] }> {
    return this.call('get', '/api/keys', undefined, {}, { token: false });
  }

  /** Readiness (no token needed): 200 when ready, 503 naming what is down, same body. */
  ready(): ApiCall<ReadinessBody, ReadinessBody> {
    return this.call('get', '/health/ready', undefined, {}, { token: false });
  }

  /** The URL of the broker the manager uses (its embedded one unless MQTT_URL says otherwise). */
  async brokerUrl(): Promise<string> {
    const { body } = await this.ready();
    return String(body.checks.broker.url);
  }

  /**
   * The SDK environment of a worker of `service` on this manager: its broker, every signing key
   * it lists (trusted), a fresh last-known-good HMAC key and, given one, the service's X25519
   * secret key. Any worker (Node, Python, a packaged SDK) reads the same variables.
   */
  async workerEnv(options: {
    service: string;
    instanceId: string;
    dataDir: string;
    secretKey?: Buffer;
  }): Promise<Record<string, string>> {
    const signing = (await this.keys().expect(200)).body.signing;
    return {
      SERVICE_NAME: options.service,
      MQTT_URL: await this.brokerUrl(),
      INSTANCE_ID: options.instanceId,
      CONFIG_TRUSTED_KEYS: signing.map((key) => `${key.kid}:${key.publicKey}`).join(','),
      ...(options.secretKey === undefined
        ? {}
        : { CONFIG_SECRET_KEY: options.secretKey.toString('base64') }),
      LKG_HMAC_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: options.dataDir,
    };
  }

  /** The Prometheus text of /metrics (no token needed), which must answer 200. */
  async metrics(): Promise<string> {
    return (
      await this.call<unknown>('get', '/metrics', undefined, {}, { token: false }).expect(200)
    ).text;
  }

  /** A call with the token (`{ token: false }`: a public endpoint, asked without one). */
  private call<T, E = ErrorBody>(
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    body?: object,
    headers: Record<string, string> = {},
    { token = true }: { token?: boolean } = {},
  ): ApiCall<T, E> {
    const test = this.http()
      [method](path)
      .set(token ? bearer(this.token) : {})
      .set(headers);
    return new ApiCall<T, E>(body === undefined ? test : test.send(body));
  }
}

function writeHeaders({ ifMatch, reason, publish }: WriteOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (publish !== undefined) headers['X-Publish'] = publish;
  if (ifMatch !== undefined) {
    headers['If-Match'] = typeof ifMatch === 'number' ? `"${ifMatch}"` : ifMatch;
  }
  if (reason !== undefined) headers['X-Change-Reason'] = reason;
  return headers;
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
