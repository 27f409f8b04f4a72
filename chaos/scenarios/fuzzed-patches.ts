import { findServiceDefinition, isPlainObject, validateConfig } from '@app/contracts';
import type { ManagerApi } from '../lib/api';
import { ensure } from '../lib/ensure';
import { fuzzBodies } from '../lib/fuzz-bodies';
import { SERVICE } from '../lib/stack';
import type { Scenario } from './scenario';

const CONCURRENCY = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const TIMEOUT_MS = 30_000;

/** What the fuzzing produced, by status. */
interface FuzzTally {
  byStatus: Map<number, number>;
  /** 5xx answers and requests that got no answer, with the body that caused them. */
  failures: string[];
}

/**
 * 6. Thousands of generated PATCH bodies (fast-check): wrong types, huge numbers, deep nesting,
 * unicode, prototype-pollution keys, malformed and oversized JSON. No answer is a 5xx, every
 * version they created still validates with the shared schema (and carries no forbidden key),
 * and afterwards the manager still answers and a normal write reaches every worker.
 */
export const fuzzedPatches: Scenario = {
  id: 6,
  title: 'generated hostile PATCH bodies',
  broker: 'acl',
  runTimeoutMs: 600_000,
  figure: { label: 'fuzzed requests per second', unit: 'req/s' },
  async run({ stack, short, seed, index, log, signal }) {
    const definition = findServiceDefinition(SERVICE);
    if (!definition) throw new Error(`${SERVICE} is not registered`);
    const bodies = fuzzBodies(short ? 1000 : 10_000, seed + index);
    const start = (await stack.api.config()).body.version;

    const started = Date.now();
    const tally = await sendAll(stack.api, bodies, signal);
    const perSecond = bodies.length / ((Date.now() - started) / 1000);
    log(`answers by status: ${[...tally.byStatus].map(([s, n]) => `${s}×${n}`).join(' ')}`);
    ensure(
      tally.failures.length === 0,
      `5xx or no answer: ${tally.failures.slice(0, 3).join(' | ')}`,
    );

    const current = (await stack.api.config()).body;
    for (let version = start + 1; version <= current.version; version++) {
      const stored = await stack.api.version(version);
      ensure(stored.status === 200, `GET version ${version} answered ${stored.status}`);
      const validated = validateConfig(definition, stored.body.config);
      ensure(
        validated.ok,
        `stored v${version} does not validate: ${validated.ok ? '' : JSON.stringify(validated.issues.slice(0, 3))}`,
      );
      const bad = forbiddenKeyPath(stored.body.config);
      ensure(bad === undefined, `stored v${version} has the key ${bad}`);
    }

    const ready = await stack.api.ready();
    ensure(ready.status === 200, `/health/ready answered ${ready.status} after fuzzing`);
    const write = await stack.api.patch({
      thresholds: { high: 0.8, low: 0.3 + (index % 10) / 100 },
    });
    ensure(write.status === 200, `a valid write after fuzzing answered ${write.status}`);
    await stack.fleetOn(write.body.version, { signal, timeoutMs: TIMEOUT_MS });
    return perSecond;
  },
};

async function sendAll(api: ManagerApi, bodies: string[], signal: AbortSignal): Promise<FuzzTally> {
  const tally: FuzzTally = { byStatus: new Map(), failures: [] };
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) {
      signal.throwIfAborted();
      const body = bodies[next++];
      try {
        const { status } = await api.patch(body, { reason: 'chaos fuzz' });
        tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
        if (status >= 500) tally.failures.push(`${status} for ${excerpt(body)}`);
      } catch (error) {
        tally.failures.push(`no answer (${String(error)}) for ${excerpt(body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return tally;
}

/** The path of the first `__proto__`, `constructor` or `prototype` key, if any. */
function forbiddenKeyPath(value: unknown, path = ''): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = forbiddenKeyPath(item, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `${path}.${key}`;
      const found = forbiddenKeyPath(child, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function excerpt(body: string): string {
  return body.length > 200 ? `${body.slice(0, 200)}… (${body.length} chars)` : body;
}
