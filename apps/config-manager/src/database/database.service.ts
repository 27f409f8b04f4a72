import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { SETTINGS } from '../settings/settings.module';
import type { Settings } from '../settings/settings';
import { isDatabaseUnavailableError } from './database-errors';
import { ensurePostgresSchema } from './database-options';

/** Seconds a client should wait before retrying a write while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
const PING_TIMEOUT_MS = 1500;

/**
 * The one way into the database. It serialises work on SQLite (TypeORM shares a single
 * connection there, so concurrent transactions would silently nest), turns "database gone"
 * failures into a DatabaseUnavailable domain error, and tracks availability with a probe so the
 * API can go read-only and recover without a restart.
 *
 * A cold start (DatabaseModule left the data source unconnected: Postgres was unreachable at
 * start and DATA_DIR has a snapshot) is the same outage from the first second: the probe tries
 * to connect (and migrate) instead of pinging, and once connected runs what the features
 * deferred with whenConnected(), in the order they asked, before anything else.
 */
@Injectable()
export class DatabaseService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseService.name);
  private readonly serialise: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private available = true;
  private lastError: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Whether the data source is connected (false during a cold start, until it connects). */
  private connected = true;
  private readonly deferred: Array<{ what: string; task: () => Promise<void> }> = [];
  /** What to run after each open transaction() commits, by its entity manager. */
  private readonly commitHooks = new WeakMap<EntityManager, Array<() => void>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {
    this.serialise = settings.database.type === 'sqlite';
  }

  onModuleInit(): void {
    this.connected = this.dataSource.isInitialized;
    if (this.connected) this.guardPoolClients();
    else {
      this.available = false;
      this.lastError = 'unreachable at start';
      void this.probe();
    }
    this.probeTimer = setInterval(() => void this.probe(), this.settings.dbProbeIntervalMs);
    this.probeTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.probeTimer);
  }

  /** Whether the last contact with the database succeeded. */
  isAvailable(): boolean {
    return this.available;
  }

  /** Why the database is considered unavailable (no credentials, no SQL). */
  unavailableReason(): string | undefined {
    if (this.available) return undefined;
    return this.connected
      ? this.lastError
      : `cold start: serving the DATA_DIR snapshot read-only until the database is reachable (${this.lastError ?? 'unreachable'})`;
  }

  /** Whether the manager started without its database and has not connected yet. */
  isColdStart(): boolean {
    return !this.connected;
  }

  /**
   * Runs `task` (start-up work that needs the store: loading, seeding, checks) now when the
   * database is connected, or, during a cold start, once it connects: tasks run one after the
   * other in the order they were deferred, and a failing one is logged and does not stop the rest.
   */
  async whenConnected(what: string, task: () => Promise<void>): Promise<void> {
    if (this.connected) return task();
    this.deferred.push({ what, task });
  }

  /** Runs `work` in one transaction; rolls back on any error. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    await this.ensureAvailable();
    const committed: Array<() => void> = [];
    const result = await this.guard(() =>
      this.dataSource.transaction((manager) => {
        this.commitHooks.set(manager, committed);
        return work(manager);
      }),
    );
    for (const hook of committed) hook();
    return result;
  }

  /**
   * Runs `hook` once the transaction of `manager` (from transaction()) has committed, never when
   * it rolls back; right away for a manager outside any transaction (its reads are committed).
   * For caches of rows that must not outlive a rolled-back write.
   */
  afterCommit(manager: EntityManager, hook: () => void): void {
    const hooks = this.commitHooks.get(manager);
    if (hooks) hooks.push(hook);
    else if (!manager.queryRunner?.isTransactionActive) hook();
  }

  /** Runs a read; on SQLite it waits for in-flight transactions so it never sees uncommitted rows. */
  async read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    await this.ensureAvailable();
    return this.guard(() => work(this.dataSource.manager));
  }

  /** Pings the database now and updates availability; used by readiness. */
  async ping(): Promise<boolean> {
    if (!this.connected) return false;
    try {
      await this.withTimeout(
        this.exclusive(() => this.dataSource.query('SELECT 1')),
        PING_TIMEOUT_MS,
      );
      this.markAvailable();
      return true;
    } catch (error) {
      this.markUnavailable(error);
      return false;
    }
  }

  private async ensureAvailable(): Promise<void> {
    // Re-check once before refusing, so the first write after the database returns succeeds.
    if (!this.connected) throw this.unavailableError();
    if (!this.available && !(await this.ping())) {
      throw this.unavailableError();
    }
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.exclusive(work);
    } catch (error) {
      if (isDatabaseUnavailableError(error)) {
        this.markUnavailable(error);
        throw this.unavailableError();
      }
      throw error;
    }
  }

  /**
   * When Postgres goes away, every connection gets an error event (57P01 "terminating
   * connection", then "Connection terminated unexpectedly"). pg-pool listens on idle clients and
   * TypeORM on the ones it runs queries on, but a client between the two (just checked out, or
   * just released with an error) has no listener, and an unhandled 'error' event ends the
   * process. Every client gets a listener of its own, so a database outage is only ever an
   * outage: the probe and the next query notice it.
   */
  private guardPoolClients(): void {
    const pool = (this.dataSource.driver as { master?: unknown }).master as PoolLike | undefined;
    if (pool === undefined || typeof pool.on !== 'function') return;
    const guard = (client: ErrorEmitter) => {
      client.on('error', (error: Error) =>
        this.logger.debug(`Postgres connection error: ${describeDatabaseError(error)}`),
      );
    };
    // Clients the pool opened before now (migrations ran on them), then every new one.
    for (const client of pool._clients ?? []) guard(client);
    pool.on('connect', guard);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialise) return work();
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      if (this.connected) await this.ping();
      else await this.connect();
    } finally {
      this.probing = false;
    }
  }

  /** Cold start: connects (migrating the store), then runs the deferred start-up work. */
  private async connect(): Promise<void> {
    try {
      await ensurePostgresSchema(this.settings.database);
      // Bounded by the pool's connect and query timeouts (database-options.ts).
      await this.dataSource.initialize();
    } catch (error) {
      if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
      const reason = describeDatabaseError(error);
      if (reason !== this.lastError) {
        this.logger.warn(`Database still unreachable (${reason}); serving the snapshot read-only.`);
      }
      this.lastError = reason;
      return;
    }
    this.connected = true;
    this.guardPoolClients();
    this.logger.log(
      `Database reachable: migrated; running ${this.deferred.length} deferred start-up step(s).`,
    );
    for (const { what, task } of this.deferred.splice(0)) {
      try {
        await task();
      } catch (error) {
        this.logger.error(
          `Deferred start-up step "${what}" failed: ${describeDatabaseError(error)}`,
        );
      }
    }
    await this.ping();
  }

  private markAvailable(): void {
    if (!this.available) {
      this.logger.log('Database is reachable again: writes are accepted.');
    }
    this.available = true;
    this.lastError = undefined;
  }

  private markUnavailable(error: unknown): void {
    const reason = describeDatabaseError(error);
    if (this.available) {
      this.logger.error(
        `Database unavailable (${reason}): serving current configs read-only and answering writes with 503 until it returns.`,
      );
    }
    this.available = false;
    this.lastError = reason;
  }

  private unavailableError(): DomainError {
    return new DomainError(
      ErrorCode.DatabaseUnavailable,
      'The configuration database is unavailable; the manager is read-only. Retry later.',
      undefined,
      DATABASE_RETRY_AFTER_SECONDS,
    );
  }

  private withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`database ping timed out after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** What guardPoolClients() uses of a pg Pool (`_clients` is internal; it is read defensively). */
interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}
interface PoolLike {
  on(event: 'connect', listener: (client: ErrorEmitter) => void): unknown;
  _clients?: ErrorEmitter[];
}

/** A short, credential-free description of a database error for logs and readiness. */
export function describeDatabaseError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message.replace(/postgres(ql)?:\/\/\S+/gi, 'postgres://…');
    return typeof code === 'string' ? `${code}: ${message}` : message;
  }
  return 'unknown error';
}
