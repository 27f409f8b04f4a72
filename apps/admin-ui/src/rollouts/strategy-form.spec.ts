import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from '@app/contracts';
import {
  checkStrategy,
  draftOf,
  emptyStep,
  firstSlot,
  LABEL_KEY,
  LABEL_VALUE,
  MAX_STEPS,
  parseSelector,
  placeServerErrors,
  slotId,
  type StepDraft,
  type StrategyDraft,
} from './strategy-form';

const step = (fields: Partial<StepDraft>): StepDraft => ({ ...emptyStep(), ...fields });
const draft = (steps: StepDraft[], limits: Partial<StrategyDraft> = {}): StrategyDraft => ({
  steps,
  ackTimeoutSeconds: '',
  maxFailedRuns: '',
  ...limits,
});
const all = () => step({ kind: 'all' });

describe('checkStrategy', () => {
  it('turns a valid draft into the request strategy, leaving out what was left empty', () => {
    const checked = checkStrategy(
      draft(
        [
          step({
            kind: 'selector',
            selector: ' tier=canary , region=eu-west.1 ',
            runs: '2',
            seconds: '30',
          }),
          step({ kind: 'percent', amount: '12.5', runs: '1' }),
          step({ kind: 'instances', amount: '3', seconds: '1' }),
          step({ kind: 'percent', amount: '100' }),
        ],
        { ackTimeoutSeconds: '45', maxFailedRuns: '0' },
      ),
    );
    expect(checked.errors).toEqual({});
    expect(checked.strategy).toEqual({
      steps: [
        {
          cohort: { selector: { tier: 'canary', region: 'eu-west.1' } },
          bake: { runs: 2, seconds: 30 },
        },
        { cohort: { percent: 12.5 }, bake: { runs: 1 } },
        { cohort: { instances: 3 }, bake: { seconds: 1 } },
        { cohort: { percent: 100 } },
      ],
      ackTimeoutSeconds: 45,
      maxFailedRuns: 0,
    });
  });

  it('insists that the last step reaches everyone, naming the step list', () => {
    expect(checkStrategy(draft([step({ kind: 'percent', amount: '50' })])).errors).toEqual({
      'strategy.steps': 'the last step must reach everyone (all instances, or 100 %)',
    });
    expect(
      checkStrategy(draft([all(), step({ kind: 'instances', amount: '1' })])).errors,
    ).toHaveProperty(['strategy.steps']);
    expect(checkStrategy(draft([])).errors).toEqual({ 'strategy.steps': 'add at least one step' });
    expect(checkStrategy(draft(Array.from({ length: MAX_STEPS + 1 }, all))).errors).toEqual({
      'strategy.steps': `at most ${MAX_STEPS} steps`,
    });
  });

  it.each([
    ['0', 'a percent greater than 0 and at most 100'],
    ['100.5', 'a percent greater than 0 and at most 100'],
    ['-5', 'a percent greater than 0 and at most 100'],
    ['1e2', 'a percent greater than 0 and at most 100'],
    ['', 'a percent greater than 0 and at most 100'],
  ])('refuses the percent %j at the step cohort', (amount, message) => {
    const checked = checkStrategy(draft([step({ kind: 'percent', amount }), all()]));
    expect(checked.strategy).toBeUndefined();
    expect(checked.errors).toEqual({ 'strategy.steps.0.cohort': message });
  });

  it.each([
    ['0', 'a whole number from 1 to 1000000'],
    ['1.5', 'a whole number from 1 to 1000000'],
    ['', 'how many instances? (at least 1)'],
  ])('refuses %j instances at the step cohort', (amount, message) => {
    expect(checkStrategy(draft([step({ kind: 'instances', amount }), all()])).errors).toEqual({
      'strategy.steps.0.cohort': message,
    });
  });

  it('checks bakes, the ack timeout and the failed-run threshold at their own inputs', () => {
    const checked = checkStrategy(
      draft([step({ kind: 'instances', amount: '1', runs: '0', seconds: 'soon' }), all()], {
        ackTimeoutSeconds: '0',
        maxFailedRuns: '2.5',
      }),
    );
    expect(checked.errors).toEqual({
      'strategy.steps.0.bake.runs': 'a whole number from 1 to 1000000',
      'strategy.steps.0.bake.seconds': 'a whole number from 1 to 604800',
      'strategy.ackTimeoutSeconds': 'a whole number from 1 to 604800',
      'strategy.maxFailedRuns': 'a whole number from 0 to 1000000',
    });
  });

  it('refuses a bake on the last step, which completes the rollout', () => {
    expect(checkStrategy(draft([step({ kind: 'all', runs: '1' })])).errors).toEqual({
      'strategy.steps.0':
        'the last step completes the rollout (the version becomes current for everyone): it cannot bake',
    });
  });

  it('reports problems in several steps at once, each at its step', () => {
    const checked = checkStrategy(
      draft([
        step({ kind: 'selector', selector: '' }),
        step({ kind: 'percent', amount: '101' }),
        all(),
      ]),
    );
    expect(Object.keys(checked.errors)).toEqual([
      'strategy.steps.0.cohort',
      'strategy.steps.1.cohort',
    ]);
  });

  it('round-trips a strategy through the form', () => {
    const strategy = {
      steps: [
        { cohort: { selector: { tier: 'canary' } }, bake: { runs: 2, seconds: 30 } },
        { cohort: { percent: 50 }, bake: { runs: 1 } },
        { cohort: { instances: 4 } },
        { cohort: { all: true as const } },
      ],
      ackTimeoutSeconds: 30,
      maxFailedRuns: 1,
    };
    expect(checkStrategy(draftOf(strategy)).strategy).toEqual(strategy);
  });
});

describe('parseSelector', () => {
  it('reads key=value pairs', () => {
    expect(parseSelector('tier=canary,region=eu, zone=a:1')).toEqual({
      labels: { tier: 'canary', region: 'eu', zone: 'a:1' },
    });
    expect(parseSelector('tier=')).toEqual({ labels: { tier: '' } });
  });

  it.each([
    ['', 'name at least one label, as key=value'],
    [' , ', 'name at least one label, as key=value'],
    ['canary', '"canary" is not key=value'],
    ['Tier=canary', 'label key "Tier": lower-case letter first, then a-z, 0-9, _ . - (at most 63)'],
    [
      '__proto__=x',
      'label key "__proto__": lower-case letter first, then a-z, 0-9, _ . - (at most 63)',
    ],
    ['tier=can ary', 'label value "can ary": A-Z, a-z, 0-9, _ . : - (at most 63)'],
    ['tier=a,tier=b', 'label key "tier" given twice'],
  ])('refuses %j', (text, problem) => {
    expect(parseSelector(text)).toEqual({ problem });
  });

  it('uses the label patterns of the contract', () => {
    expect(LABEL_KEY.source).toBe(LABEL_KEY_PATTERN.source);
    expect(LABEL_VALUE.source).toBe(LABEL_VALUE_PATTERN.source);
  });
});

describe('firstSlot and slotId', () => {
  it('focuses the first problem in reading order, and names a DOM id for every slot', () => {
    const errors = {
      '': 'refused',
      'strategy.maxFailedRuns': 'x',
      'strategy.steps.1.bake.runs': 'x',
      'strategy.steps.1.cohort': 'x',
    };
    expect(firstSlot(errors, 2)).toBe('strategy.steps.1.cohort');
    expect(firstSlot({ '': 'refused' }, 2)).toBe('');
    expect(firstSlot({}, 2)).toBeUndefined();
    expect(slotId('strategy.steps.1.cohort')).toBe('rollout-strategy-steps-1-cohort');
    expect(slotId('')).toBe('rollout-form-error');
  });
});

describe('placeServerErrors', () => {
  it('puts each detail at the nearest input, keeping a deeper path in the message', () => {
    const placed = placeServerErrors(
      [
        { path: 'strategy.steps', message: 'strategy.steps the last step must reach everyone' },
        { path: 'strategy.steps.1.cohort.selector', message: 'matches no instance' },
        { path: 'strategy.steps.0.bake.runs', message: 'must not be less than 0' },
        { path: 'strategy.ackTimeoutSeconds', message: 'must be an integer' },
        { path: 'strategy.steps.7.cohort', message: 'a step the form does not have' },
        { path: 'rollout', message: 'r-1 is active' },
      ],
      'Bad request',
      2,
    );
    expect(placed).toEqual({
      'strategy.steps':
        'the last step must reach everyone; a step the form does not have (strategy.steps.7.cohort)',
      'strategy.steps.1.cohort': 'matches no instance (strategy.steps.1.cohort.selector)',
      'strategy.steps.0.bake.runs': 'must not be less than 0',
      'strategy.ackTimeoutSeconds': 'must be an integer',
      '': 'r-1 is active',
    });
  });

  it('places paths given relative to the strategy, and a refusal without details on the form', () => {
    expect(placeServerErrors([{ path: 'steps.0.cohort', message: 'bad' }], 'x', 1)).toEqual({
      'strategy.steps.0.cohort': 'bad',
    });
    expect(placeServerErrors([], 'Version 9 is not staged', 1)).toEqual({
      '': 'Version 9 is not staged',
    });
  });
});
