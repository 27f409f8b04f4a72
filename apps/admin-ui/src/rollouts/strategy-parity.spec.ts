import fc from 'fast-check';
import type { ErrorDetail, RolloutStrategy } from '@app/contracts';
import { DomainError } from '../../../config-manager/src/common/domain-error';
import {
  DEFAULT_ACK_TIMEOUT_SECONDS as MANAGER_DEFAULT_ACK,
  MAX_STEPS as MANAGER_MAX_STEPS,
  parseRolloutRequest,
} from '../../../config-manager/src/rollouts/rollout-request';
import {
  checkStrategy,
  DEFAULT_ACK_TIMEOUT_SECONDS,
  MAX_STEPS,
  placeServerErrors,
  type CohortKind,
  type StepDraft,
  type StrategyDraft,
} from './strategy-form';

/** What the manager makes of a request: the strategy it keeps, or that it refuses it. */
function manager(strategy: unknown): { strategy: RolloutStrategy } | 'refused' {
  const answered = answer(strategy);
  return 'details' in answered ? 'refused' : answered;
}

/** The manager's answer: the strategy, or the details of its 400. */
function answer(strategy: unknown): { strategy: RolloutStrategy } | { details: ErrorDetail[] } {
  try {
    return { strategy: parseRolloutRequest({ version: 2, strategy }).strategy };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { details: error.details ?? [] };
  }
}

/** The request a client would send for what was typed, without checking it: numbers as numbers. */
function sent(draft: StrategyDraft): unknown {
  const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
  const step = (s: StepDraft) => {
    const cohort =
      s.kind === 'all'
        ? { all: true }
        : s.kind === 'selector'
          ? {
              selector: Object.fromEntries(
                s.selector
                  .split(',')
                  .filter((pair) => pair.trim() !== '')
                  .map((pair) => pair.split('=').map((part) => part.trim())),
              ),
            }
          : { [s.kind]: number(s.amount) };
    const bake = {
      ...(number(s.runs) === undefined ? {} : { runs: number(s.runs) }),
      ...(number(s.seconds) === undefined ? {} : { seconds: number(s.seconds) }),
    };
    return Object.keys(bake).length === 0 ? { cohort } : { cohort, bake };
  };
  return {
    steps: draft.steps.map(step),
    ...(number(draft.ackTimeoutSeconds) === undefined
      ? {}
      : { ackTimeoutSeconds: number(draft.ackTimeoutSeconds) }),
    ...(number(draft.maxFailedRuns) === undefined
      ? {}
      : { maxFailedRuns: number(draft.maxFailedRuns) }),
  };
}

/** Numbers as an admin types them (plain decimals), around every bound the manager has. */
const typed = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 2_000_000 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0.5',
      '12.5',
      '1.5',
      '99.99',
      '100',
      '100.0',
      '100.5',
      '101',
      '604800',
      '604801',
      '1000000',
      '1000001',
      'abc',
      ' 7 ',
    ),
  },
);
const labelKey = fc.constantFrom('tier', 'region', 'zone.a', 'x-1', 'Tier', '9lives', '_x');
const labelValue = fc.constantFrom('canary', 'eu-west.1', 'a:b', '', 'two words', 'ü', 'A_B');
const selector = fc
  .uniqueArray(fc.tuple(labelKey, labelValue), { selector: ([key]) => key, maxLength: 3 })
  .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join(', '));
const stepDraft: fc.Arbitrary<StepDraft> = fc.record({
  kind: fc.constantFrom<CohortKind>('instances', 'percent', 'selector', 'all'),
  amount: typed,
  selector,
  runs: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: typed }),
  seconds: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: typed }),
});
/** Mostly strategies that end with everyone and do not bake there, so many are valid. */
const drafts: fc.Arbitrary<StrategyDraft> = fc.record({
  steps: fc.oneof(
    fc.array(stepDraft, { maxLength: 4 }),
    fc
      .tuple(fc.array(stepDraft, { maxLength: 3 }), fc.constantFrom('all', '100', '100.0', '50'))
      .map(([steps, last]) => [
        ...steps,
        last === 'all'
          ? { kind: 'all' as const, amount: '', selector: '', runs: '', seconds: '' }
          : { kind: 'percent' as const, amount: last, selector: '', runs: '', seconds: '' },
      ]),
  ),
  ackTimeoutSeconds: typed,
  maxFailedRuns: typed,
});

describe('the rollout form and config-manager agree on a strategy', () => {
  it('shares the limits and default', () => {
    expect(MAX_STEPS).toBe(MANAGER_MAX_STEPS);
    expect(DEFAULT_ACK_TIMEOUT_SECONDS).toBe(MANAGER_DEFAULT_ACK);
  });

  it('accepts exactly what the manager accepts, and sends the strategy it keeps', () => {
    let accepted = 0;
    fc.assert(
      fc.property(drafts, (draft) => {
        const client = checkStrategy(draft);
        const server = manager(sent(draft));
        if (client.strategy === undefined) {
          expect(server).toBe('refused');
          return;
        }
        accepted++;
        // What the form sends is what was typed, and the manager keeps it (defaults added).
        expect(manager(client.strategy)).toEqual(server);
        expect(server).toEqual({
          strategy: {
            ackTimeoutSeconds: DEFAULT_ACK_TIMEOUT_SECONDS,
            maxFailedRuns: 0,
            ...client.strategy,
          },
        });
      }),
      { numRuns: 2000 },
    );
    // The property means something only if both outcomes occur often.
    expect(accepted).toBeGreaterThan(100);
  });

  it('places every problem the manager names at an input of the form, none on the form as a whole', () => {
    fc.assert(
      fc.property(drafts, (draft) => {
        const refused = answer(sent(draft));
        fc.pre('details' in refused);
        if (!('details' in refused)) return;
        expect(refused.details.length).toBeGreaterThan(0);
        const placed = placeServerErrors(refused.details, 'refused', draft.steps.length);
        expect(Object.keys(placed)).not.toContain('');
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses more than the manager allows in steps', () => {
    const all: StepDraft = { kind: 'all', amount: '', selector: '', runs: '', seconds: '' };
    const many: StrategyDraft = {
      steps: Array.from({ length: MAX_STEPS + 1 }, () => all),
      ackTimeoutSeconds: '',
      maxFailedRuns: '',
    };
    expect(checkStrategy(many).strategy).toBeUndefined();
    expect(manager(sent(many))).toBe('refused');
  });
});
