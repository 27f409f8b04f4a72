import type { RejectionReason } from '@app/contracts';

/** What a vector is written to show; the generator fails when the real code disagrees. */
export type Intent =
  | { readonly verdict: 'accepted' | 'duplicate' | 'archived' }
  | { readonly verdict: 'rejected'; readonly reason: RejectionReason };

/** The `expect` of an envelope vector, as the README describes it. */
export interface VerdictExpect {
  readonly verdict: string;
  readonly reason?: string;
}

/** Throws, naming the vector, when the verdict the code gave is not the one the vector intends. */
export function assertIntent(
  file: string,
  name: string,
  intent: Intent,
  actual: VerdictExpect,
  detail: string | undefined,
): void {
  const reason = 'reason' in intent ? intent.reason : undefined;
  if (actual.verdict !== intent.verdict || actual.reason !== reason) {
    const said =
      actual.reason === undefined ? actual.verdict : `${actual.verdict} (${actual.reason})`;
    const meant = reason === undefined ? intent.verdict : `${intent.verdict} (${reason})`;
    throw new Error(
      `test vectors: ${file} case ${name} is meant to be ${meant}, but the code says ${said}` +
        (detail === undefined ? '' : `: ${detail}`),
    );
  }
}

/** Fails generation loudly: a vector whose premise does not hold would test nothing. */
export function premise(condition: boolean, what: string): void {
  if (!condition) throw new Error(`test vectors: premise broken: ${what}`);
}

/** A copy of `base` with `changes` applied; a change to `undefined` removes the key. */
export function withChanges(
  base: Record<string, unknown>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy;
}
