import { AiDecisionCache } from './ai-decision-cache';

const verdict = (reason: string) => ({ sameEvent: true, confidence: 0.9, reason });

describe(AiDecisionCache.name, () => {
  it('evicts the least recently used verdict when full', () => {
    const sut = new AiDecisionCache(2);
    sut.set('a', verdict('a'));
    sut.set('b', verdict('b'));
    sut.get('a');
    sut.set('c', verdict('c'));

    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')?.reason).toBe('a');
    expect(sut.get('c')?.reason).toBe('c');
    expect(sut.size).toBe(2);
  });
});
