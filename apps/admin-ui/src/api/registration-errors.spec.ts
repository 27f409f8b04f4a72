import { ApiError } from './client';
import { detailMessage, isConfigConflict, placeRegistrationErrors } from './registration-errors';
import type { ErrorDetail } from './types';

const refusal = (status: number, details?: ErrorDetail[]) =>
  new ApiError(status, { statusCode: status, error: 'x', message: `refused (${status})`, details });

describe('placeRegistrationErrors', () => {
  it('puts schema, defaults and the other body fields beside their inputs', () => {
    const placed = placeRegistrationErrors(
      refusal(400, [
        { path: 'schema.properties.x.format', message: 'schema.properties.x.format uses …' },
        { path: 'default.batch_size', message: 'the defaults do not satisfy the schema' },
        { path: 'service', message: 'service name must match' },
        { path: 'recipientKey', message: 'recipientKey must be a base64 key' },
        { path: 'description', message: 'too long' },
        { path: 'config', message: 'config must be a JSON object' },
      ]),
      false,
    );
    expect(placed.schema.map((d) => d.path)).toEqual([
      'schema.properties.x.format',
      'default.batch_size',
    ]);
    expect(placed.service.map((d) => d.path)).toEqual(['service']);
    expect(placed.recipientKey.map((d) => d.path)).toEqual(['recipientKey']);
    expect(placed.description.map((d) => d.path)).toEqual(['description']);
    expect(placed.config.map((d) => d.path)).toEqual(['config']);
    expect(placed.form).toEqual([]);
  });

  it("puts a 409's config paths, and a 400's on a config sent, at the config to move to", () => {
    const conflict = refusal(409, [{ path: 'batch_size', message: 'must be at most 60' }]);
    expect(placeRegistrationErrors(conflict, false).config.map((d) => d.path)).toEqual([
      'batch_size',
    ]);
    expect(isConfigConflict(conflict)).toBe(true);

    const badConfig = refusal(400, [{ path: 'limits.soft', message: 'must be ≤ hard' }]);
    expect(placeRegistrationErrors(badConfig, true).config.map((d) => d.path)).toEqual([
      'limits.soft',
    ]);
    expect(placeRegistrationErrors(badConfig, false).form.map((d) => d.path)).toEqual([
      'limits.soft',
    ]);
  });

  it('shows a refusal without details (a service registered by code) on the form', () => {
    const placed = placeRegistrationErrors(refusal(409), false);
    expect(placed.form).toEqual([{ path: '', message: 'refused (409)' }]);
    expect(isConfigConflict(refusal(409))).toBe(false);
    expect(isConfigConflict(refusal(409, [{ path: 'config', message: 'unchanged' }]))).toBe(false);
  });
});

describe('detailMessage', () => {
  it('leaves out the path a message starts with, shown beside it anyway', () => {
    expect(
      detailMessage({
        path: 'schema.properties.x.format',
        message: 'schema.properties.x.format uses the unsupported keyword "format"',
      }),
    ).toBe('uses the unsupported keyword "format"');
    expect(detailMessage({ path: 'batch_size', message: 'must be at most 60' })).toBe(
      'must be at most 60',
    );
  });
});
