import { randomBytes } from 'node:crypto';
import { type MasterKey, masterKeyFromBase64 } from '@app/crypto';
import { type SnapshotBody, openSnapshot, sealSnapshot } from './snapshot';

const key = (): MasterKey => masterKeyFromBase64(randomBytes(32).toString('base64'));

const body = (): SnapshotBody => ({
  writtenAt: '2026-12-06T00:00:00.000Z',
  services: [
    {
      name: 'billing',
      description: 'Billing',
      origin: 'api',
      schemaVersion: 1,
      jsonSchema: { type: 'object' },
      recipientKey: null,
      archivedAt: null,
      version: 6,
      kind: 'update',
      updatedAt: '2026-12-06T00:00:00.000Z',
      updatedBy: 'alice',
      schemaHash: 'sha256:00',
      config: { limit: 3 },
      secretStates: {},
      secrets: [],
    },
  ],
});

describe('snapshot file format', () => {
  it('opens what it sealed, under the current or a previous master key', () => {
    const [current, previous] = [key(), key()];
    expect(openSnapshot(sealSnapshot(body(), current), [current])).toEqual({
      ok: true,
      body: body(),
      keyId: current.id,
    });
    expect(openSnapshot(sealSnapshot(body(), previous), [current, previous]).ok).toBe(true);
  });

  it('refuses a changed body, an unknown key and garbage', () => {
    const sut = key();
    const text = sealSnapshot(body(), sut);
    const tampered = text.replace('\\"version\\":6', '\\"version\\":60');
    expect(tampered).not.toBe(text);
    expect(openSnapshot(tampered, [sut])).toEqual({ ok: false, problem: 'hmac' });
    expect(openSnapshot(text, [key()])).toEqual({ ok: false, problem: 'unknown-key' });
    expect(openSnapshot('{"format":1', [sut])).toEqual({ ok: false, problem: 'malformed' });
  });
});
