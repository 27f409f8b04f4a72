import { blockCandidatePairs, blockingWindowMinutes, type Blockable } from './blocking';
import { startMillis } from './event';
import { matchingConfig, syntheticEvents } from './testing/matching.factories';

function at(key: string, start: string): Blockable {
  return { key, startMs: startMillis(start) };
}

function pairList(events: readonly Blockable[], pairs: Uint32Array): string[] {
  const result: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    result.push([events[pairs[i]].key, events[pairs[i + 1]].key].sort().join(' + '));
  }
  return result.sort();
}

describe(blockCandidatePairs.name, () => {
  const date = matchingConfig().date;

  it('pairs only events starting within 2 × time_close_minutes of each other', () => {
    const events = [
      at('a:1', '2025-06-01T20:00:00Z'),
      at('b:1', '2025-06-01T22:59:00Z'),
      at('c:1', '2025-06-01T23:01:00Z'),
      at('d:1', '2025-06-03T20:00:00Z'),
    ];

    const result = blockCandidatePairs(events, date);

    expect(pairList(events, result.pairs)).toEqual(['a:1 + b:1', 'b:1 + c:1']);
    expect(result.pairsCompared).toBe(2);
  });

  it('never pairs two entries of the same source and id', () => {
    const events = [
      at('a:1', '2025-06-01T20:00:00Z'),
      at('a:1', '2025-06-01T20:00:00Z'),
      at('b:7', '2025-06-01T20:10:00Z'),
    ];

    expect(pairList(events, blockCandidatePairs(events, date).pairs)).toEqual([
      'a:1 + b:7',
      'a:1 + b:7',
    ]);
  });

  it('widens with time_close_minutes, up to a day', () => {
    expect(blockingWindowMinutes({ ...date, time_close_minutes: 90 })).toBe(180);
    expect(blockingWindowMinutes({ ...date, time_close_minutes: 300 })).toBe(600);
    expect(blockingWindowMinutes({ ...date, time_close_minutes: 5000 })).toBe(24 * 60);
  });

  it('gives the same pairs whatever the input order', () => {
    const { events } = syntheticEvents({ count: 300, duplicateShare: 0.3, days: 3 });
    const blockable = events.map((event) => at(event.key, event.start));
    const reversed = [...blockable].reverse();

    expect(pairList(reversed, blockCandidatePairs(reversed, date).pairs)).toEqual(
      pairList(blockable, blockCandidatePairs(blockable, date).pairs),
    );
  });

  it('stays far below n² pairs on a month of events and still pairs every planted duplicate', () => {
    const { events, duplicateGroups } = syntheticEvents({
      count: 2000,
      duplicateShare: 0.3,
      days: 30,
    });
    const blockable = events.map((event) => at(event.key, event.start));

    const result = blockCandidatePairs(blockable, date);

    expect(result.pairsCompared).toBeLessThan((events.length * events.length) / 20);
    const found = new Set(pairList(blockable, result.pairs));
    const planted = duplicateGroups.flatMap((group) =>
      group.slice(1).map((key) => [group[0], key].sort().join(' + ')),
    );
    expect(planted.length).toBeGreaterThan(300);
    expect(planted.filter((pair) => !found.has(pair))).toEqual([]);
  });
});
