import type { SecretState, VersionKind } from '@app/contracts';

/** A version's content: the non-secret config plus the secrets' set flags. */
export interface Snapshot {
  config: Readonly<Record<string, unknown>>;
  secrets: Readonly<Record<string, SecretState>>;
}

/** The current state of one service, as served from memory. */
export interface ConfigState extends Snapshot {
  service: string;
  version: number;
  kind: VersionKind;
  updatedAt: string;
  updatedBy: string;
  /** The schema the config was validated under (its payload's `schemaHash`). */
  schemaHash: string;
}
