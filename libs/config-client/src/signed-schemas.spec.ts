import { definitionOfSchema, billingSyncSchema, BILLING_SYNC } from '../test/support/billing-sync';
import { MAX_SIGNED_SCHEMAS, type SignedSchema, SignedSchemaStore } from './signed-schemas';

function signedSchemaFactory(schemaVersion: number): SignedSchema {
  const definition = definitionOfSchema(billingSyncSchema({ title: `v${schemaVersion}` }));
  return {
    service: BILLING_SYNC,
    schemaVersion,
    schemaHash: definition.schemaHash,
    definition,
    envelopeBytes: Buffer.from(`envelope ${schemaVersion}`),
  };
}

describe(SignedSchemaStore.name, () => {
  it('finds a schema by its hash and says whether it was new', () => {
    const sut = new SignedSchemaStore();
    const schema = signedSchemaFactory(1);

    expect(sut.add(schema)).toBe(true);
    expect(sut.add(schema)).toBe(false);
    expect(sut.get(schema.schemaHash)).toBe(schema);
    expect(sut.get(signedSchemaFactory(2).schemaHash)).toBeUndefined();
  });

  it(`keeps the ${MAX_SIGNED_SCHEMAS} most recently received or used schemas`, () => {
    const sut = new SignedSchemaStore();
    const schemas = Array.from({ length: MAX_SIGNED_SCHEMAS + 2 }, (_, i) =>
      signedSchemaFactory(i + 1),
    );

    schemas.slice(0, MAX_SIGNED_SCHEMAS).forEach((schema) => sut.add(schema));
    sut.get(schemas[0].schemaHash); // in use: not the oldest any more
    sut.add(schemas[MAX_SIGNED_SCHEMAS]);
    sut.add(schemas[MAX_SIGNED_SCHEMAS + 1]);

    expect(sut.size).toBe(MAX_SIGNED_SCHEMAS);
    expect(sut.get(schemas[0].schemaHash)).toBe(schemas[0]);
    expect(sut.get(schemas[1].schemaHash)).toBeUndefined();
    expect(sut.get(schemas[2].schemaHash)).toBeUndefined();
    expect(sut.get(schemas[MAX_SIGNED_SCHEMAS + 1].schemaHash)).toBe(
      schemas[MAX_SIGNED_SCHEMAS + 1],
    );
  });
});
