import { join } from 'node:path';
import { candidateEnvelopeVectors } from './candidate-envelope-vectors';
import { configEnvelopeVectors } from './config-envelope-vectors';
import { schemaEnvelopeVectors } from './schema-envelope-vectors';
import { schemaHashVectors } from './schema-hash-vectors';
import { schemaValidationVectors } from './schema-validation-vectors';
import { sealedSecretVectors } from './sealed-secret-vectors';
import { lkgFileVectors } from './lkg-file-vectors';
import { keysFile, vectorKeys } from './vector-keys';

/** Where the vectors live: libs/contracts/test-vectors, beside the README that describes them. */
export const VECTORS_DIR = join(__dirname, '..', '..', 'libs', 'contracts', 'test-vectors');

/** The vector files, in the order they are generated. */
export const VECTOR_FILES = [
  'keys.json',
  'config-envelopes.json',
  'candidate-envelopes.json',
  'schema-envelopes.json',
  'sealed-secrets.json',
  'schema-validation.json',
  'schema-hash.json',
  'lkg-files.json',
] as const;

/**
 * Every vector file by name (VECTOR_FILES), computed from the real code: the SDK's EnvelopeVerifier for the
 * envelopes (candidates included), libs/crypto for the sealed secrets, validateConfig and schemaHashOf for the
 * schemas, the SDK's last-known-good functions for the files. Throws when a vector's intended verdict is not the code's. Deterministic.
 */
export function buildVectors(): Record<string, unknown> {
  const keys = vectorKeys();
  return {
    'keys.json': keysFile(keys),
    'config-envelopes.json': configEnvelopeVectors(keys),
    'candidate-envelopes.json': candidateEnvelopeVectors(keys),
    'schema-envelopes.json': schemaEnvelopeVectors(keys),
    'sealed-secrets.json': sealedSecretVectors(keys),
    'schema-validation.json': schemaValidationVectors(),
    'schema-hash.json': schemaHashVectors(),
    'lkg-files.json': lkgFileVectors(keys),
  };
}

/** A vector file's text: 2-space JSON with a trailing newline. */
export function vectorFileText(content: unknown): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}
