import Ajv2020 from 'ajv/dist/2020';
import { addExtensionKeywords, findServiceDefinition } from '@app/contracts';
import { EnvelopeVerifier } from '@app/config-client';
import { bearer, MqttProbe, readEnvelope, StoreKind, succeeded, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const admin = bearer(TOKENS.admin);
const WEIGHTS = { date: 0.3, geo: 0.25, title: 0.3, description: 0.15 };

// Sends a Buffer body as its bytes: superagent would JSON-encode it for a JSON content type, and
// its typings only admit strings (a Buffer is written as is at run time).
const rawBytes = (body: Buffer) => body as unknown as string;

/**
 * What the manager accepts over HTTP, what a standard JSON Schema validator says of the schema
 * the manager publishes (GET …/schema), and what the SDK says of the envelope the manager then
 * signs: one verdict for each boundary case, or a mixed fleet splits.
 */
const CASES: Array<[string, Record<string, unknown>]> = [
  [
    '51 × ❤️ as a category (102 code points)',
    { category_weights: { priority: ['❤️'.repeat(51)] } },
  ],
  [
    '50 × ❤️ as a category (100 code points)',
    { category_weights: { priority: ['❤️'.repeat(50)] } },
  ],
  ['51 × ❤️ as the model', { ai: { model: '❤️'.repeat(51) } }],
  ['100 astral emoji as the model', { ai: { model: '😀'.repeat(100) } }],
  ['100 × e + combining acute (200 code points)', { ai: { model: 'e\u0301'.repeat(100) } }],
  [
    'an override keyed by 60 emoji (120 UTF-16 units)',
    { category_weights: { overrides: { ['😀'.repeat(60)]: WEIGHTS } } },
  ],
  [
    'an override keyed by 101 emoji',
    { category_weights: { overrides: { ['😀'.repeat(101)]: WEIGHTS } } },
  ],
  ['weights summing to 1.001', { scoring: { ...WEIGHTS, date: 0.301 } }],
  ['weights summing to 0.999', { scoring: { ...WEIGHTS, date: 0.299 } }],
  ['weights summing to 1.0011', { scoring: { ...WEIGHTS, date: 0.3011 } }],
  ['weights summing to 0.9989', { scoring: { ...WEIGHTS, date: 0.2989 } }],
];

describe.each<StoreKind>(['sqlite', 'postgres'])('Unicode and tolerance rules on %s', (store) => {
  let sut: TestManager;
  let probe: MqttProbe;
  let published: (config: unknown) => boolean;
  let sdk: EnvelopeVerifier;

  beforeAll(async () => {
    sut = await startManager({ store });
    const schema = await sut.api.schema(SERVICE).expect(200);
    published = addExtensionKeywords(new Ajv2020({ strict: true })).compile(
      schema.body.schema as object,
    );
    const keys = await sut.api.keys().expect(200);
    const [signing] = keys.body.signing;
    const definition = findServiceDefinition(SERVICE);
    if (!definition) throw new Error('dedup-worker is not registered');
    sdk = new EnvelopeVerifier({
      definition,
      trustedKeys: new Map([[signing.kid, Buffer.from(signing.publicKey, 'base64')]]),
    });
    probe = await MqttProbe.connect(await sut.api.brokerUrl(), [`system/config/${SERVICE}`]);
  });

  afterAll(async () => {
    await probe.close();
    await sut.close();
  });

  const current = async () => (await sut.api.config(SERVICE).expect(200)).body;

  it.each(CASES)('one verdict for %s: HTTP, published schema and SDK', async (_, patch) => {
    const before = await current();
    const res = await sut.api.patchConfig(SERVICE, patch);
    expect([200, 400]).toContain(res.status);

    if (!succeeded(res)) {
      // Refused: nothing stored, and the schema the manager publishes refuses it too.
      expect((await current()).version).toBe(before.version);
      const wouldBe = { ...before.config, ...patch };
      expect(published(wouldBe)).toBe(false);
      return;
    }
    const merged = res.body.config;
    expect(published(merged)).toBe(true);
    const version = res.body.version;
    const message = await probe.waitFor(
      (m) => m.payload.length > 0 && readEnvelope(m.payload).payload.version === version,
      `v${version} on the bus`,
    );
    const verdict = sdk.verify(message.payload, { topicService: SERVICE, appliedVersion: 0 });
    expect(verdict.kind).toBe('accepted');
  });

  it('refuses a lone surrogate anywhere with 400 naming the path, and stores nothing', async () => {
    const before = await current();
    for (const [body, path] of [
      ['{"ai":{"model":"gem\\ud800"}}', 'ai.model'],
      ['{"category_weights":{"priority":["\\udfff"]}}', 'category_weights.priority.0'],
      [
        `{"category_weights":{"overrides":{"k\\ud800":${JSON.stringify(WEIGHTS)}}}}`,
        'category_weights.overrides.k\\ud800',
      ],
    ]) {
      const res = await sut
        .http()
        .patch(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ path })]);
      expect(res.body.message).toMatch(/not well-formed Unicode/);
    }
    const secret = await sut
      .http()
      .put(`/api/services/${SERVICE}/secrets/ai.api_key`)
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"value":"sk-\\ud800"}')
      .expect(400);
    expect(secret.body.details).toEqual([expect.objectContaining({ path: 'value' })]);
    const after = await current();
    expect(after.version).toBe(before.version);
  });

  it('refuses invalid UTF-8 instead of storing U+FFFD, naming the byte and the path', async () => {
    const before = await current();
    const cases: Array<[Buffer, string, RegExp]> = [
      [
        Buffer.concat([
          Buffer.from('{"ai":{"model":"gem'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}}'),
        ]),
        'ai.model',
        /not valid UTF-8 \(at byte 19, in ai\.model\)/,
      ],
      [
        // An encoded surrogate (CESU-8) is not UTF-8 either.
        Buffer.concat([
          Buffer.from('{"category_weights":{"priority":["ok","'),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from('"]}}'),
        ]),
        'category_weights.priority.1',
        /in category_weights\.priority\.1/,
      ],
      [
        Buffer.concat([
          Buffer.from('{"category_weights":{"overrides":{"k'),
          Buffer.from([0xff]),
          Buffer.from(`":${JSON.stringify(WEIGHTS)}}}}`),
        ]),
        'category_weights.overrides',
        /in a key of category_weights\.overrides/,
      ],
    ];
    for (const [body, path, message] of cases) {
      const res = await sut
        .http()
        .patch(`/api/services/${SERVICE}/config`)
        .set(admin)
        .set('Content-Type', 'application/json')
        .serialize(rawBytes)
        .send(body)
        .expect(400);
      expect(res.body.message).toMatch(message);
      expect(res.body.details).toEqual([expect.objectContaining({ path })]);
      expect(JSON.stringify(res.body)).not.toContain('\ufffd');
    }
    await sut
      .http()
      .patch(`/api/services/${SERVICE}/config`)
      .set(admin)
      .set('Content-Type', 'application/json; charset=utf-16le')
      .serialize(rawBytes)
      .send(Buffer.from('{"ai":{"model":"x"}}', 'utf16le'))
      .expect(415);
    expect((await current()).version).toBe(before.version);
  });
});
