import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { addExtensionKeywords, defaultConfig, validateConfig } from '@app/contracts';
import {
  buildEnvelope,
  createTestKeys,
  dedupWorkerDefinition,
  trustedKeysOf,
} from '../test/support/envelope-factory';
import { EnvelopeVerifier } from './envelope-verifier';

/**
 * The rule the manager applies (validateConfig on every write), the rule the SDK applies (rule 5
 * of the envelope verifier) and the rule the manager publishes (GET …/schema, checked here with
 * Ajv, a standard JSON Schema validator, plus the contract's extension keywords) must be the same
 * rule: a mixed fleet splits the moment one of them accepts what another refuses.
 */

// Code points that UTF-16 lengths, validator.js' isLength and grapheme counts disagree about.
const TEXT_UNITS = [
  'a',
  'é', // one code point
  'e\u0301', // e + combining acute: two code points, one grapheme
  '\u0301', // a combining mark on its own
  '❤️', // U+2764 U+FE0F: two code points; validator.js' isLength counts one
  '\uFE0E', // variation selector-15
  '\uFE0F', // variation selector-16
  '😀', // astral: one code point, two UTF-16 units
  '👍🏽', // astral + astral skin-tone modifier: two code points, four units
  '\u200D', // zero-width joiner
  '𝔸',
  ' ',
];

// Lengths straddling the 100-code-point limits of the dedup-worker schema.
const text = fc
  .array(fc.constantFrom(...TEXT_UNITS), { minLength: 45, maxLength: 85, size: 'max' })
  .map((units) => units.join(''));

type Verdicts = { manager: boolean; sdk: boolean; published: boolean };

describe('manager, SDK and published schema agree', () => {
  const definition = dedupWorkerDefinition();
  const keys = createTestKeys();
  const sdk = new EnvelopeVerifier({
    definition,
    trustedKeys: trustedKeysOf(keys),
    secretKey: keys.box.secretKey,
  });
  const published = addExtensionKeywords(new Ajv2020({ strict: true })).compile(
    structuredClone(definition.jsonSchema) as object,
  );
  let version = 0;

  function verdicts(config: Record<string, unknown>): Verdicts {
    const envelope = buildEnvelope(keys, { version: ++version, config });
    const verdict = sdk.verify(envelope, { topicService: definition.name, appliedVersion: 0 });
    if (verdict.kind === 'rejected' && verdict.reason !== 'schema') {
      throw new Error(`unexpected SDK rejection ${verdict.reason}: ${verdict.detail}`);
    }
    return {
      manager: validateConfig(definition, config).ok,
      sdk: verdict.kind === 'accepted',
      published: published(config),
    };
  }

  function expectAgreement(config: Record<string, unknown>, expected?: boolean): boolean {
    const seen = verdicts(config);
    const agreed = seen.manager === seen.sdk && seen.sdk === seen.published;
    if (!agreed || (expected !== undefined && seen.manager !== expected)) {
      throw new Error(`verdicts ${JSON.stringify(seen)} for ${JSON.stringify(config)}`);
    }
    return seen.manager;
  }

  const withAi = (model: string) => {
    const config = defaultConfig(definition);
    return { ...config, ai: { ...(config.ai as object), model } };
  };
  const withCategories = (priority: string[], overrides: Record<string, unknown>) => ({
    ...defaultConfig(definition),
    category_weights: { priority, overrides },
  });
  const weights = { date: 0.3, geo: 0.25, title: 0.3, description: 0.15 };

  it('counts string lengths in code points: the reported cases', () => {
    // 51 × ❤️ is 102 code points: over the limit, whatever validator.js' isLength says.
    expectAgreement(withCategories(['❤️'.repeat(51)], {}), false);
    expectAgreement(withAi('❤️'.repeat(51)), false);
    expectAgreement(withAi('❤️'.repeat(50)), true);
    // 60 astral emoji are 60 code points (120 UTF-16 units): a valid key.
    expectAgreement(withCategories([], { ['😀'.repeat(60)]: weights }), true);
    expectAgreement(withCategories([], { ['😀'.repeat(101)]: weights }), false);
    expectAgreement(withCategories(['😀'.repeat(100)], {}), true);
  });

  it('agrees on generated model names, category names and override keys around 100 code points', () => {
    const outcomes = new Set<boolean>();
    fc.assert(
      fc.property(text, text, text, (model, category, key) => {
        outcomes.add(expectAgreement(withAi(model)));
        outcomes.add(expectAgreement(withCategories([category], {})));
        outcomes.add(expectAgreement(withCategories([], { [key]: weights })));
      }),
      { numRuns: 400 },
    );
    // The generator reaches both sides of every boundary.
    expect([...outcomes].sort()).toEqual([false, true]);
  });

  it('applies the weight-sum tolerance symmetrically and inclusively', () => {
    for (const [date, expected] of [
      [0.301, true], // sums to 1.001 (1.0010000000000001 in floats)
      [0.299, true], // sums to 0.999
      [0.3011, false],
      [0.2989, false],
      [0.3, true],
    ] as const) {
      expectAgreement({ ...defaultConfig(definition), scoring: { ...weights, date } }, expected);
    }
    fc.assert(
      fc.property(fc.double({ min: -0.0015, max: 0.0015, noNaN: true }), (delta) => {
        expectAgreement({
          ...defaultConfig(definition),
          scoring: { ...weights, date: 0.3 + delta },
        });
      }),
      { numRuns: 300 },
    );
  });

  it('agrees on the field comparisons (low <= high) at and around equality', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 0.35, 0.5, 0.75, 1),
        fc.constantFrom(-0.01, 0, 0.01),
        (high, delta) => {
          const low = Math.min(1, Math.max(0, high + delta));
          expectAgreement({ ...defaultConfig(definition), thresholds: { high, low } });
        },
      ),
      { numRuns: 100 },
    );
  });
});
