// The strategies the rollout form offers ready-made; each fills the step list, which stays editable.
import type { RolloutStrategy } from '../api/types';

export interface StrategyPreset {
  id: string;
  label: string;
  description: string;
  strategy: RolloutStrategy;
}

/** Seconds a targeted instance has to apply the candidate, and failed runs tolerated, in every preset. */
const LIMITS = { ackTimeoutSeconds: 30, maxFailedRuns: 0 } as const;

export const STRATEGY_PRESETS: readonly StrategyPreset[] = [
  {
    id: 'canary-then-all',
    label: 'One canary, then all',
    description: 'One instance first; once it has completed 2 runs on the new version, everyone.',
    strategy: {
      steps: [{ cohort: { instances: 1 }, bake: { runs: 2 } }, { cohort: { all: true } }],
      ...LIMITS,
    },
  },
  {
    id: 'waves',
    label: '10 / 50 / 100 %',
    description: 'Three waves, each baking 1 run on every instance it reached before the next.',
    strategy: {
      steps: [
        { cohort: { percent: 10 }, bake: { runs: 1 } },
        { cohort: { percent: 50 }, bake: { runs: 1 } },
        { cohort: { percent: 100 } },
      ],
      ...LIMITS,
    },
  },
  {
    id: 'canary-label',
    label: 'Canary label, then all',
    description:
      'The instances labelled tier=canary (INSTANCE_LABELS) first, 2 runs each, then everyone.',
    strategy: {
      steps: [
        { cohort: { selector: { tier: 'canary' } }, bake: { runs: 2 } },
        { cohort: { all: true } },
      ],
      ...LIMITS,
    },
  },
];

/** The preset the form starts with. */
export const DEFAULT_PRESET = STRATEGY_PRESETS[0];
