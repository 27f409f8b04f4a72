import { existsSync, rmSync } from 'node:fs';
import {
  findServiceDefinition,
  type ServiceDefinition,
  validateConfig,
  validateWithClasses,
} from '@app/contracts';
import { generateBoxKeyPair } from '@app/crypto';
import { buildAdminUi, CHROMIUM_PATH, launchChromium } from '@app/testing';
import { type GeneratedService, generatedService } from '../lib/generated-services';
import { BENCH_TOKEN, startManagerProcess } from '../lib/manager-process';
import { matchingDocuments } from '../lib/matching-documents';
import type { Figure, SuiteResult } from '../lib/report';
import { percentile, summarize } from '../lib/stats';

const SERVICES = Number(process.env.BENCH_SERVICES_COUNT ?? 20);
const KEYS = Number(process.env.BENCH_SERVICES_KEYS ?? 200);
const GETS = Number(process.env.BENCH_SERVICES_GETS ?? 200);
const PATCHES = Number(process.env.BENCH_SERVICES_PATCHES ?? 100);
const SEARCHES = Number(process.env.BENCH_SERVICES_SEARCHES ?? 200);
const DOCUMENTS = Number(process.env.BENCH_SERVICES_DOCUMENTS ?? 100);
const VALIDATION_ROUNDS = Number(process.env.BENCH_SERVICES_VALIDATION_ROUNDS ?? 30);
const PAGE_LOADS = Number(process.env.BENCH_SERVICES_PAGE_LOADS ?? 5);

const SEARCH_TARGET_MS = 300;
const PAGE_TARGET_MS = 2000;
// Where the admin page keeps its token (apps/admin-ui/src/api/client.ts).
const TOKEN_KEY = 'config-centre.token';

/** The queries of the search rows: what they stand for, and the text. */
const QUERIES: [string, string][] = [
  ['no match (reads every leaf)', 'no-such-key'],
  ['a key name, capped at 200 hits', 'timeout'],
  ['an enum value, capped', 'eu-west'],
  ['one service by value', 'bench-svc-07.example'],
  ['a dotted path', 'section_13.advanced'],
  ['secrets by name (one per service)', 'api_key'],
];

/**
 * Issue 14: services registered at runtime through the REST API. 20 generated schemas of 200
 * keys are registered with PUT against a manager in its own process (SQLite, embedded broker);
 * then reads, writes and searches over HTTP, the two validation engines in process on
 * MatchingConfig, and the admin page's services list in headless Chromium.
 */
export async function servicesBench(): Promise<SuiteResult> {
  // In process and before the manager starts, so nothing else competes for the CPU.
  const validation = validationFigures();

  const chromium = existsSync(CHROMIUM_PATH);
  const uiDir = chromium ? buildAdminUi() : undefined;
  const manager = await startManagerProcess(uiDir ? { ADMIN_UI_DIR: uiDir } : {});
  const http = new Http(manager.url);
  const services = Array.from({ length: SERVICES }, (_, i) => generatedService(i, KEYS));
  try {
    const registration = await register(http, services);
    const reads = await readsAndWrites(http, services);
    const search = await searches(http);
    const list = await timed(100, () => http.json('GET', '/api/services'));
    const listed = (await http.json('GET', '/api/services')) as { service: string }[];
    if (listed.length !== SERVICES + 1) {
      throw new Error(`GET /api/services lists ${listed.length} services, not ${SERVICES + 1}`);
    }
    const page = uiDir
      ? await pageLoads(
          manager.url,
          listed.map((s) => s.service),
        )
      : undefined;

    const figures: Figure[] = [
      ...registration,
      ...reads,
      ...search,
      {
        name: `GET /api/services (${SERVICES + 1} services): median / p99`,
        value: pair(summarize(list, 2)),
        unit: 'ms',
      },
      ...validation.figures,
      ...pageFigures(page),
    ];
    return {
      suite: 'services registered at runtime',
      issue: 'issue 14',
      figures,
      notes: [
        `${SERVICES} schemas of ${KEYS} keys (sections of integers with ranges, strings with maxLength, enums, booleans, numbers, nested groups, an x-not-greater-than pair, a map and a writeOnly secret; ${Math.round(Buffer.byteLength(JSON.stringify(services[0].schema)) / 1024)} KiB of JSON each), registered one after another with PUT /api/services/:service (with ${services.length} samples the p99 is the slowest); manager in its own process on SQLite with the embedded broker`,
        `per service ${GETS} sequential GET /api/services/:s/config and ${PATCHES} sequential PATCHes alternating one integer between two values (each a new version, validated, stored and published); medians and p99s over all ${SERVICES} services`,
        `search: ${QUERIES.length} queries × ${SEARCHES} sequential requests over ${SERVICES + 1} services (${QUERIES.map(([, q]) => `"${q}"`).join(', ')})`,
        validation.note,
        chromium
          ? `page: ${PAGE_LOADS} loads of ${manager.url.replace(/:\d+$/, ':…')}/#/services, each in a fresh browser context (cold cache) with the token in session storage, timed in the page from navigation start to the frame after the table holds all ${SERVICES + 1} service names (two API calls: /api/me, then /api/services); one untimed load first`
          : `page: skipped, no Chromium at ${CHROMIUM_PATH}`,
      ],
    };
  } finally {
    await manager.stop();
    if (uiDir) rmSync(uiDir, { recursive: true, force: true });
  }
}

async function register(http: Http, services: GeneratedService[]): Promise<Figure[]> {
  const recipientKey = generateBoxKeyPair().publicKey.toString('base64');
  const samples: number[] = [];
  for (const service of services) {
    const started = performance.now();
    const status = await http.status('PUT', `/api/services/${service.name}`, {
      description: service.description,
      schema: service.schema,
      // Its secret is sealed to this key (without one the manager warns that it is not sent).
      recipientKey,
    });
    samples.push(performance.now() - started);
    if (status !== 201) throw new Error(`PUT ${service.name} answered ${status}`);
  }
  const stats = summarize(samples, 1);
  const total = samples.reduce((sum, ms) => sum + ms, 0);
  return [
    {
      name: `PUT /api/services/:s, ${services.length} new services of ${KEYS} keys: median / p99`,
      value: pair(stats),
      unit: 'ms',
    },
    { name: `registration of all ${services.length}, total`, value: total.toFixed(0), unit: 'ms' },
  ];
}

async function readsAndWrites(http: Http, services: GeneratedService[]): Promise<Figure[]> {
  const gets = new Map<string, number[]>();
  const patches = new Map<string, number[]>();
  for (const service of services) {
    const path = `/api/services/${service.name}/config`;
    gets.set(service.name, await timed(GETS, () => http.json('GET', path)));
    let i = 0;
    patches.set(
      service.name,
      await timed(
        PATCHES,
        async () => {
          const body = service.patches[i++ % 2];
          const status = await http.status('PATCH', path, body);
          if (status !== 200) throw new Error(`PATCH ${service.name} answered ${status}`);
        },
        2,
      ),
    );
    // Every PATCH changed the value, so each made a version (version 1 is the registration).
    const { version } = (await http.json('GET', path)) as { version: number };
    if (version !== 1 + i) {
      throw new Error(`${service.name} is at version ${version} after ${i} PATCHes`);
    }
  }
  return [
    ...perService('GET /api/services/:s/config', GETS, gets),
    ...perService('PATCH /api/services/:s/config', PATCHES, patches),
  ];
}

function perService(what: string, n: number, samples: Map<string, number[]>): Figure[] {
  const all = summarize([...samples.values()].flat(), 2);
  const [worst, worstP99] = [...samples.entries()]
    .map(([name, values]) => [name, percentile(values, 99)] as const)
    .reduce((a, b) => (b[1] > a[1] ? b : a));
  return [
    {
      name: `${what} (${n} per service, sequential): median / p99`,
      value: pair(all),
      unit: 'ms',
    },
    {
      name: `${what}: worst service's p99 (${worst})`,
      value: worstP99.toFixed(2),
      unit: 'ms',
    },
  ];
}

async function searches(http: Http): Promise<Figure[]> {
  const all: number[] = [];
  const perQuery: { label: string; q: string; hits: number; p99: number }[] = [];
  for (const [label, q] of QUERIES) {
    const path = `/api/search?q=${encodeURIComponent(q)}`;
    const samples = await timed(SEARCHES, () => http.json('GET', path));
    const hits = ((await http.json('GET', path)) as unknown[]).length;
    all.push(...samples);
    perQuery.push({ label, q, hits, p99: percentile(samples, 99) });
  }
  const stats = summarize(all, 2);
  const worst = perQuery.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  return [
    {
      name: `GET /api/search, ${QUERIES.length} queries × ${SEARCHES}: median / p99`,
      value: pair(stats),
      unit: 'ms',
      target: mark(stats.p99 < SEARCH_TARGET_MS, `< ${SEARCH_TARGET_MS} ms p99`),
    },
    ...perQuery.map((query) => ({
      name: `GET /api/search, ${query.label} ("${query.q}", ${query.hits} hits): p99`,
      value: query.p99.toFixed(2),
      unit: 'ms',
      target: query === worst ? 'the worst query' : undefined,
    })),
  ];
}

type Engine = 'classes' | 'ajv';
type Verdict = 'valid' | 'invalid';

function validationFigures(): { figures: Figure[]; note: string } {
  const definition = findServiceDefinition('dedup-worker');
  if (definition?.schema === undefined) throw new Error('dedup-worker is not registered');
  const classes = definition as ServiceDefinition & {
    schema: NonNullable<ServiceDefinition['schema']>;
  };
  const documents = matchingDocuments(definition, DOCUMENTS);
  const engines: Record<Engine, (document: unknown) => { ok: boolean }> = {
    classes: (document) => validateWithClasses(classes, document),
    ajv: (document) => validateConfig(definition, document),
  };
  let agreed = 0;
  for (const document of documents.valid) if (engines.classes(document).ok) agreed++;
  for (const document of documents.invalid) if (!engines.classes(document).ok) agreed++;

  // samples[engine][verdict][document] = its timings in microseconds, one per round.
  const samples: Record<Engine, Record<Verdict, number[][]>> = {
    classes: { valid: documents.valid.map(() => []), invalid: documents.invalid.map(() => []) },
    ajv: { valid: documents.valid.map(() => []), invalid: documents.invalid.map(() => []) },
  };
  for (let round = 0; round < VALIDATION_ROUNDS + 2; round++) {
    // Both engines on each document in turn, first one then the other, so that neither is
    // favoured by a warm cache or by a drift of the machine.
    const order: Engine[] = round % 2 === 0 ? ['classes', 'ajv'] : ['ajv', 'classes'];
    for (const verdict of ['valid', 'invalid'] as const) {
      documents[verdict].forEach((document, i) => {
        for (const engine of order) {
          const started = process.hrtime.bigint();
          engines[engine](document);
          const us = Number(process.hrtime.bigint() - started) / 1e3;
          // Two rounds of warm-up: the JIT, and Ajv's compiled validator in its cache.
          if (round >= 2) samples[engine][verdict][i].push(us);
        }
      });
    }
  }
  const flat = (engine: Engine, verdicts: Verdict[]) =>
    verdicts.flatMap((verdict) => samples[engine][verdict].flat());
  // The slowest document's median: what one config costs at worst, without the machine's noise.
  const slowest = (engine: Engine) =>
    Math.max(
      ...(['valid', 'invalid'] as const).flatMap((verdict) =>
        samples[engine][verdict].map((timings) => percentile(timings, 50)),
      ),
    ).toFixed(0);
  const row = (name: string, engine: Engine, verdict: Verdict): Figure => ({
    name: `MatchingConfig, ${name}: median / p99 per config`,
    value: pair(summarize(flat(engine, [verdict]), 1)),
    unit: 'µs',
  });
  const both: Verdict[] = ['valid', 'invalid'];
  const ratio = percentile(flat('classes', both), 50) / percentile(flat('ajv', both), 50);
  return {
    figures: [
      row('class-validator (validateWithClasses), valid', 'classes', 'valid'),
      row('Ajv (validateConfig), valid', 'ajv', 'valid'),
      row('class-validator, invalid', 'classes', 'invalid'),
      row('Ajv, invalid', 'ajv', 'invalid'),
      {
        name: 'MatchingConfig, class-validator / Ajv, median over all configs',
        value: ratio.toFixed(2),
        unit: '×',
      },
    ],
    note:
      `validation: in process, ${DOCUMENTS} valid and ${DOCUMENTS} invalid MatchingConfig documents (the defaults with 1-4 seeded edits: values in and out of range, wrong types, removed and unknown fields, category overrides), ` +
      `each validated by both engines in turn in ${VALIDATION_ROUNDS} timed rounds after 2 of warm-up; both give the whole result (normalized config or every issue); ` +
      `class-validator agreed with Ajv's verdict on ${agreed} of ${2 * DOCUMENTS}; ` +
      `the slowest document's median is ${slowest('classes')} µs with class-validator, ${slowest('ajv')} µs with Ajv (a p99 far above that is a pause of the process or the machine, not a slow document)`,
  };
}

interface PageTimes {
  samples: number[];
}

async function pageLoads(origin: string, names: string[]): Promise<PageTimes> {
  const browser = await launchChromium();
  // Runs before the page's own scripts: the token where the page looks for it (as if signed in
  // in this tab), and an observer noting the frame in which every service name is in the table.
  const script = `(() => {
    const origin = ${JSON.stringify(origin)};
    const names = ${JSON.stringify(names)};
    if (location.origin !== origin) return;
    sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(BENCH_TOKEN)});
    const listed = () => {
      const shown = new Set(Array.from(document.querySelectorAll('tbody td a'), (a) => a.textContent));
      return names.every((name) => shown.has(name));
    };
    const observer = new MutationObserver(() => {
      if (!listed()) return;
      observer.disconnect();
      requestAnimationFrame(() => { window.__servicesListedAt = performance.now(); });
    });
    observer.observe(document, { childList: true, subtree: true });
  })();`;
  const samples: number[] = [];
  try {
    for (let load = 0; load <= PAGE_LOADS; load++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        await context.addInitScript({ content: script });
        const page = await context.newPage();
        await page.goto(`${origin}/#/services`);
        // A function, not a string: the page's CSP refuses eval. It runs in the page, so it
        // names nothing of this file.
        const handle = await page.waitForFunction(
          () => (globalThis as { __servicesListedAt?: number }).__servicesListedAt,
          undefined,
          { timeout: 30_000 },
        );
        const ms = (await handle.jsonValue()) as number;
        if (load > 0) samples.push(ms);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  return { samples };
}

function pageFigures(page: PageTimes | undefined): Figure[] {
  const name = `admin page, services list (${SERVICES + 1} services) rendered in Chromium: median of ${PAGE_LOADS} loads`;
  if (page === undefined) {
    return [{ name, value: 'skipped: chromium not found', target: `< ${PAGE_TARGET_MS} ms` }];
  }
  const median = percentile(page.samples, 50);
  return [
    {
      name,
      value: median.toFixed(0),
      unit: 'ms',
      target: mark(median < PAGE_TARGET_MS, `< ${PAGE_TARGET_MS} ms`),
    },
    {
      name: 'admin page, services list: slowest load',
      value: Math.max(...page.samples).toFixed(0),
      unit: 'ms',
    },
  ];
}

/** Sequential timings of `op` in milliseconds, after `warmUp` untimed calls. */
async function timed(rounds: number, op: () => Promise<unknown>, warmUp = 5): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await op();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await op();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** The manager's REST API with the bench's admin token; bodies are read in full. */
class Http {
  constructor(private readonly base: string) {}

  async status(method: string, path: string, body?: unknown): Promise<number> {
    const response = await this.send(method, path, body);
    await response.arrayBuffer();
    return response.status;
  }

  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.send(method, path, body);
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
    return response.json();
  }

  private send(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${BENCH_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

function pair(stats: { median: number; p99: number }): string {
  return `${stats.median} / ${stats.p99}`;
}

function mark(pass: boolean, target: string): string {
  return `${target} ${pass ? '✓ pass' : '✗ FAIL'}`;
}
