import type { DedupCluster, DedupStats, DedupTimings } from '../matching/deduplicate';

/** What one run wrote to OUTPUT_DIR/<runId>.json. Never contains configuration values or secrets. */
export interface RunReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** The config version this whole run used (taken once, at its start). */
  configVersion: number;
  configSource: 'broker' | 'lkg' | 'defaults';
  schemaDrift: boolean;
  inputs: Array<{ file: string; source: string; sourceType: string; events: number }>;
  failed: Array<{ file: string; reason: string }>;
  counts: DedupStats & {
    clusters: number;
    duplicatesMerged: number;
    /** Events dropped because their source:id was already read from an earlier file of the run. */
    repeatedKeys: number;
  };
  timings: DedupTimings & { readMs: number; writeMs: number };
  clusters: DedupCluster[];
}
