// Where the manager's answer to a registration (PUT /api/services/:service) is shown: each error
// detail beside the input it is about, by the dotted path it names.
import type { ApiError } from './client';
import type { ErrorDetail } from './types';

/** The parts of the registration form a problem can be shown at. */
export type RegistrationField =
  'service' | 'description' | 'schema' | 'recipientKey' | 'config' | 'form';

export type PlacedErrors = Record<RegistrationField, ErrorDetail[]>;

/** No problems anywhere. */
export function noErrors(): PlacedErrors {
  return { service: [], description: [], schema: [], recipientKey: [], config: [], form: [] };
}

/**
 * The details of a refused registration by the input they are about. Paths into the request
 * body: `schema.*` and the defaults (`default.*`) at the schema, `service`, `description` and
 * `recipientKey` at theirs, `config` at the config to move to. Paths into the config: a 409's
 * (the current config does not fit the new schema) and a 400's on a config that was sent, at the
 * config to move to. The rest, and a refusal without details (a 409 for a service registered by
 * code), go to the form as a whole.
 */
export function placeRegistrationErrors(error: ApiError, sentConfig: boolean): PlacedErrors {
  const placed = noErrors();
  const details = error.body?.details ?? [];
  if (details.length === 0) {
    placed.form.push({ path: '', message: error.message });
    return placed;
  }
  const aboutConfig =
    error.status === 409 ||
    (error.status === 400 &&
      sentConfig &&
      details.every((detail) => bodyFieldOf(detail.path) === undefined));
  for (const detail of details) {
    placed[aboutConfig ? 'config' : (bodyFieldOf(detail.path) ?? 'form')].push(detail);
  }
  return placed;
}

/** A 409 naming config paths: the current config does not fit the new schema. */
export function isConfigConflict(error: ApiError): boolean {
  return (
    error.status === 409 && (error.body?.details ?? []).some((detail) => detail.path !== 'config')
  );
}

/** A detail's message without the path it starts with (the page shows the path beside it). */
export function detailMessage(detail: ErrorDetail): string {
  return detail.path !== '' && detail.message.startsWith(`${detail.path} `)
    ? detail.message.slice(detail.path.length + 1)
    : detail.message;
}

function bodyFieldOf(path: string): RegistrationField | undefined {
  const head = path.split('.')[0];
  if (head === 'schema' || head === 'default') return 'schema';
  if (head === 'config') return 'config';
  if (path === 'service' || path === 'description' || path === 'recipientKey') return path;
  return undefined;
}
