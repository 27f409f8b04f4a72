import { sourceEvent } from '../matching/testing/matching.factories';
import { buildMatchPrompt, parseMatchVerdict } from './match-prompt';

describe(buildMatchPrompt.name, () => {
  it('describes both events and asks for the JSON verdict', () => {
    const prompt = buildMatchPrompt(
      sourceEvent({ title: 'Nils Frahm Live', start: '2025-06-01T20:00:00+02:00' }),
      sourceEvent({ source: 'guide', title: 'Nils Frahm in Concert', location: null }),
    );

    expect(prompt).toContain('title: Nils Frahm Live');
    expect(prompt).toContain('title: Nils Frahm in Concert');
    expect(prompt).toContain('start: 2025-06-01T20:00:00+02:00');
    expect(prompt).toContain('location: Columbia Theater, Berlin (52.4839, 13.3902)');
    expect(prompt).toContain('location: unknown');
    expect(prompt).toContain('"same_event"');
  });
});

describe(parseMatchVerdict.name, () => {
  it('reads the verdict, also inside a Markdown fence', () => {
    expect(
      parseMatchVerdict('```json\n{"same_event":false,"confidence":0.7,"reason":"r"}\n```'),
    ).toEqual({
      sameEvent: false,
      confidence: 0.7,
      reason: 'r',
    });
  });

  it.each([
    'nope',
    '[]',
    '{"same_event":"yes","confidence":0.5}',
    '{"same_event":true,"confidence":1.5}',
    '{"same_event":true}',
  ])('refuses %s', (text) => expect(parseMatchVerdict(text)).toBeUndefined());
});
