import { DomainError } from '../common/domain-error';
import { parseRolloutRequest } from './rollout-request';

function pathsOf(body: unknown): string[] {
  try {
    parseRolloutRequest(body);
  } catch (error) {
    if (error instanceof DomainError) return (error.details ?? []).map((d) => d.path);
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe(parseRolloutRequest.name, () => {
  const sut = parseRolloutRequest;
  const all = { cohort: { all: true } };

  it('fills in the defaults', () => {
    expect(
      sut({
        version: 3,
        strategy: { steps: [{ cohort: { percent: 10 }, bake: { runs: 2 } }, all] },
      }),
    ).toEqual({
      version: 3,
      strategy: {
        steps: [{ cohort: { percent: 10 }, bake: { runs: 2 } }, { cohort: { all: true } }],
        ackTimeoutSeconds: 60,
        maxFailedRuns: 0,
      },
    });
  });

  it('takes percent 100 as reaching everyone', () => {
    expect(
      sut({ version: 3, strategy: { steps: [{ cohort: { percent: 100 } }] } }).strategy.steps,
    ).toHaveLength(1);
  });

  it('names every problem at once', () => {
    expect(
      pathsOf({
        version: 0,
        strategy: {
          steps: [
            { cohort: { percent: 0 } },
            { cohort: { instances: 0 }, bake: { seconds: -1 } },
            all,
          ],
          ackTimeoutSeconds: 1.5,
        },
        extra: 1,
      }),
    ).toEqual([
      'extra',
      'version',
      'strategy.ackTimeoutSeconds',
      'strategy.steps.0.cohort.percent',
      'strategy.steps.1.cohort.instances',
      'strategy.steps.1.bake.seconds',
    ]);
  });

  it('refuses a last step that does not reach everyone or bakes', () => {
    expect(pathsOf({ version: 2, strategy: { steps: [{ cohort: { instances: 3 } }] } })).toEqual([
      'strategy.steps',
    ]);
    expect(pathsOf({ version: 2, strategy: { steps: [{ ...all, bake: { runs: 1 } }] } })).toEqual([
      'strategy.steps.0.bake',
    ]);
  });

  it('refuses too many steps, none, and cohorts of two kinds', () => {
    expect(
      pathsOf({ version: 2, strategy: { steps: Array.from({ length: 21 }, () => all) } }),
    ).toEqual(['strategy.steps']);
    expect(pathsOf({ version: 2, strategy: { steps: [] } })).toEqual(['strategy.steps']);
    expect(
      pathsOf({ version: 2, strategy: { steps: [{ cohort: { all: true, instances: 2 } }] } }),
    ).toEqual(['strategy.steps.0.cohort']);
  });
});
