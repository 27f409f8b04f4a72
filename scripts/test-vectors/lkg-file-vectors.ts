import {
  lastKnownGoodMacInput,
  type LastKnownGoodFile,
  type LastKnownGoodLoad,
  openLastKnownGood,
  sealLastKnownGood,
} from '@app/config-client';
import { hmacSha256, sha256 } from '@app/crypto';
import { premise } from './vector-case';
import { ISSUED_AT, jsonBytes, signedEnvelope, type VectorKeys } from './vector-keys';
import { VECTOR_WORKER } from './vector-worker.schema';

/** The `expect` of a last-known-good file vector (see the README). */
export type LkgFileExpect =
  | {
      valid: true;
      format: number;
      underPreviousKey: boolean;
      envelope: string;
      schemaEnvelope?: string;
      /** Standard base64 of the exact bytes the HMAC is computed over (under the key that checks). */
      macInput: string;
    }
  | { valid: false };

/** One case of lkg-files.json. */
export interface LkgFileVector {
  name: string;
  description: string;
  /** The reader's instance id. */
  instanceId: string;
  /** Standard base64 of the reader's current LKG_HMAC_KEY and of its LKG_HMAC_KEYS_PREVIOUS. */
  hmacKey: string;
  previousHmacKeys: string[];
  file: unknown;
  expect: LkgFileExpect;
}

interface CaseSpec {
  readonly name: string;
  readonly description: string;
  readonly instanceId?: string;
  readonly previousHmacKeys?: readonly Buffer[];
  readonly file: unknown;
  readonly valid: boolean;
}

const INSTANCE = 'w-1';
const SAVED_AT = '2026-11-21T20:00:01.000Z';

// Fixed keys, as every other vector's.
function keyOf(label: string): Buffer {
  return sha256(`config-centre test vectors: lkg ${label}`);
}

/**
 * lkg-files.json: last-known-good files (format 3, and the formats 1 and 2 of earlier SDKs) with
 * the key, instance and verdict of a reader, and for the valid ones the exact HMAC input, so a
 * client in another language checks its byte layout (libs/config-client/README.md). Computed
 * with the SDK's sealLastKnownGood and openLastKnownGood.
 */
export function lkgFileVectors(keys: VectorKeys): Record<string, unknown> {
  const current = keyOf('current');
  const cases = lkgFileCases(keys, current).map((spec): LkgFileVector => {
    const instanceId = spec.instanceId ?? INSTANCE;
    const previous = spec.previousHmacKeys ?? [];
    const loaded = openLastKnownGood(spec.file, {
      service: VECTOR_WORKER,
      instanceId,
      keys: [current, ...previous],
    });
    premise(
      (loaded.kind === 'ok') === spec.valid,
      `lkg-files.json case ${spec.name} is meant to be ${spec.valid ? 'valid' : 'invalid'}` +
        (loaded.kind === 'invalid' ? ` (the code says it ${loaded.reason})` : ''),
    );
    return {
      name: spec.name,
      description: spec.description,
      instanceId,
      hmacKey: current.toString('base64'),
      previousHmacKeys: previous.map((key) => key.toString('base64')),
      file: spec.file,
      expect: expectOf(loaded, spec.file as LastKnownGoodFile, instanceId),
    };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return { service: VECTOR_WORKER, cases };
}

function expectOf(loaded: LastKnownGoodLoad, file: LastKnownGoodFile, instanceId: string) {
  if (loaded.kind !== 'ok') return { valid: false } as const;
  const input = lastKnownGoodMacInput({
    format: loaded.format,
    service: VECTOR_WORKER,
    instanceId,
    savedAt: file.savedAt,
    envelope: loaded.envelopeBytes,
    schemaEnvelope: loaded.schemaEnvelopeBytes,
  });
  return {
    valid: true as const,
    format: loaded.format,
    underPreviousKey: loaded.underPreviousKey,
    envelope: loaded.envelopeBytes.toString('base64'),
    ...(loaded.schemaEnvelopeBytes === undefined
      ? {}
      : { schemaEnvelope: loaded.schemaEnvelopeBytes.toString('base64') }),
    macInput: input.toString('base64'),
  };
}

function lkgFileCases(keys: VectorKeys, current: Buffer): CaseSpec[] {
  const previous = keyOf('previous');
  const envelope = jsonBytes(
    signedEnvelope(
      {
        service: VECTOR_WORKER,
        version: 4,
        issuedAt: ISSUED_AT,
        expiresAt: '2026-11-28T20:00:00.000Z',
        schemaHash: `sha256:${'a'.repeat(64)}`,
        config: { batch_size: 120 },
        secrets: {},
      },
      keys.signing,
    ),
  );
  const schemaEnvelope = jsonBytes(
    signedEnvelope(
      {
        service: VECTOR_WORKER,
        schemaVersion: 1,
        schemaHash: `sha256:${'a'.repeat(64)}`,
        schema: { type: 'object' },
        issuedAt: ISSUED_AT,
      },
      keys.signing,
    ),
  );
  const formatThree = (
    changes: { key?: Buffer; instanceId?: string; schema?: boolean } = {},
  ): LastKnownGoodFile =>
    sealLastKnownGood({
      key: changes.key ?? current,
      service: VECTOR_WORKER,
      instanceId: changes.instanceId ?? INSTANCE,
      savedAt: SAVED_AT,
      envelope,
      ...(changes.schema === true ? { schemaEnvelope } : {}),
    });
  // Earlier SDKs' files, built from their layouts (the README's formats 1 and 2).
  const legacy = (format: 1 | 2): LastKnownGoodFile => {
    const schema = format === 2 ? schemaEnvelope : undefined;
    const mac = hmacSha256(
      current,
      lastKnownGoodMacInput({ format, service: VECTOR_WORKER, envelope, schemaEnvelope: schema }),
    );
    return {
      format,
      service: VECTOR_WORKER,
      savedAt: SAVED_AT,
      envelope: envelope.toString('base64'),
      ...(schema === undefined ? {} : { schemaEnvelope: schema.toString('base64') }),
      hmac: mac.toString('base64'),
    };
  };
  return [
    {
      name: 'format3-config-only',
      description:
        'A format-3 file of a client with its own schema (no schemaEnvelope), saved by this instance under the current key: valid. The schema envelope enters the HMAC as a zero length.',
      file: formatThree(),
      valid: true,
    },
    {
      name: 'format3-with-schema',
      description:
        'A format-3 file of a client on signed schemas: the config envelope and the schema envelope it was validated with.',
      file: formatThree({ schema: true }),
      valid: true,
    },
    {
      name: 'format3-other-instance',
      description:
        'A valid file saved by instance w-2, read by w-1 (copied from another worker): invalid.',
      file: formatThree({ instanceId: 'w-2' }),
      valid: false,
    },
    {
      name: 'format3-instance-field-edited',
      description:
        'The file of w-2 with its instanceId field changed to w-1: the HMAC binds the instance, invalid.',
      file: { ...formatThree({ instanceId: 'w-2' }), instanceId: INSTANCE },
      valid: false,
    },
    {
      name: 'format3-saved-at-edited',
      description: 'A valid file whose savedAt was changed afterwards: the HMAC binds it, invalid.',
      file: { ...formatThree(), savedAt: '2026-12-01T00:00:00.000Z' },
      valid: false,
    },
    {
      name: 'format3-schema-envelope-removed',
      description: 'A format-3 file with its schemaEnvelope removed: invalid.',
      file: (({ schemaEnvelope: _schema, ...rest }) => rest)(formatThree({ schema: true })),
      valid: false,
    },
    {
      name: 'format3-read-as-format1',
      description:
        'A format-3 file whose format field says 1: the format is bound, invalid under either layout.',
      file: { ...formatThree(), format: 1 },
      valid: false,
    },
    {
      name: 'format3-under-previous-key',
      description:
        'A file saved under a key that is now in LKG_HMAC_KEYS_PREVIOUS: valid, underPreviousKey (the worker uses it and rewrites it at once under the current key).',
      previousHmacKeys: [keyOf('older'), previous],
      file: formatThree({ key: previous }),
      valid: true,
    },
    {
      name: 'format3-under-unknown-key',
      description: 'A file saved under a key the reader has neither as current nor as previous.',
      previousHmacKeys: [keyOf('older')],
      file: formatThree({ key: previous }),
      valid: false,
    },
    {
      name: 'format3-other-service',
      description: 'A valid file for another service: invalid.',
      file: { ...formatThree(), service: 'other-worker' },
      valid: false,
    },
    {
      name: 'format2-earlier-sdk',
      description:
        'A format-2 file of an earlier SDK (no instanceId; savedAt not bound): still read, for any instance; rewritten as format 3 on the next save.',
      file: legacy(2),
      valid: true,
    },
    {
      name: 'format1-earlier-sdk',
      description: 'A format-1 file of an earlier SDK: still read.',
      file: legacy(1),
      valid: true,
    },
  ];
}
