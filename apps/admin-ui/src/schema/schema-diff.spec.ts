import fc from 'fast-check';
import { diffConfigs } from '@app/contracts';
import type { JsonSchema } from '../api/types';
import { diffSchemas, shortHash } from './schema-diff';

describe('diffSchemas', () => {
  it('lists each changed leaf by path, with — (undefined) on the side that lacks it', () => {
    const from: JsonSchema = {
      type: 'object',
      properties: {
        batch_size: { type: 'integer', maximum: 500, default: 50 },
        currency: { type: 'string', enum: ['EUR', 'USD'] },
      },
    };
    const to: JsonSchema = {
      type: 'object',
      properties: {
        batch_size: { type: 'integer', maximum: 60, default: 50 },
        currency: { type: 'string', enum: ['EUR', 'USD', 'CHF'] },
        region: { type: 'string', default: 'eu' },
      },
    };
    expect(diffSchemas(from, to)).toEqual([
      { path: 'properties.batch_size.maximum', from: 500, to: 60 },
      { path: 'properties.currency.enum', from: ['EUR', 'USD'], to: ['EUR', 'USD', 'CHF'] },
      { path: 'properties.region.default', from: undefined, to: 'eu' },
      { path: 'properties.region.type', from: undefined, to: 'string' },
    ]);
    expect(diffSchemas(to, to)).toEqual([]);
  });

  it("changes the same paths as the audit's schema rows (the manager's diffConfigs)", () => {
    const documents = fc.dictionary(
      fc.constantFrom('type', 'properties', 'a', 'b', 'default'),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(documents, documents, (from, to) => {
        const mine = diffSchemas(from, to);
        const manager = diffConfigs(from, to);
        expect(mine.map((change) => change.path)).toEqual(manager.map((change) => change.path));
        // The manager writes null for a missing side; the page leaves it undefined.
        expect(mine.map((c) => ('from' in c ? [c.from ?? null, c.to ?? null] : []))).toEqual(
          manager.map((c) => [c.from, c.to]),
        );
      }),
    );
  });
});

describe('shortHash', () => {
  it('keeps the first 12 hex digits of a sha256: hash', () => {
    expect(shortHash(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('0123456789ab');
  });
});
