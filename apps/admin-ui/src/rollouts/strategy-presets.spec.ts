import { checkStrategy, draftOf } from './strategy-form';
import { STRATEGY_PRESETS } from './strategy-presets';

const preset = (id: string) => {
  const found = STRATEGY_PRESETS.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no preset ${id}`);
  return found.strategy;
};

describe('STRATEGY_PRESETS', () => {
  it.each(STRATEGY_PRESETS.map((p) => [p.label, p] as const))(
    '%s passes the form checks unchanged once loaded into the form',
    (_, p) => {
      const checked = checkStrategy(draftOf(p.strategy));
      expect(checked.errors).toEqual({});
      expect(checked.strategy).toEqual(p.strategy);
    },
  );

  it('offers one canary, then all', () => {
    expect(preset('canary-then-all').steps).toEqual([
      { cohort: { instances: 1 }, bake: { runs: 2 } },
      { cohort: { all: true } },
    ]);
  });

  it('offers 10, 50 and 100 %', () => {
    expect(preset('waves').steps.map((step) => step.cohort)).toEqual([
      { percent: 10 },
      { percent: 50 },
      { percent: 100 },
    ]);
  });

  it('offers the instances labelled tier=canary, then all', () => {
    expect(preset('canary-label').steps.map((step) => step.cohort)).toEqual([
      { selector: { tier: 'canary' } },
      { all: true },
    ]);
  });

  it('has unique ids and labels', () => {
    expect(new Set(STRATEGY_PRESETS.map((p) => p.id)).size).toBe(STRATEGY_PRESETS.length);
    expect(new Set(STRATEGY_PRESETS.map((p) => p.label)).size).toBe(STRATEGY_PRESETS.length);
  });
});
