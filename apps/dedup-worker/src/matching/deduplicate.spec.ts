import fc from 'fast-check';
import type { MatchingConfig } from '@app/contracts';
import { AiMatcher } from '../ai/ai-matcher';
import { geminiReply, GeminiStub, type StubReply } from '../ai/testing/gemini-stub';
import { deduplicate, type DedupResult } from './deduplicate';
import type { SourceEvent } from './event';
import {
  eventLocation,
  matchingConfig,
  sourceEvent,
  syntheticEvents,
} from './testing/matching.factories';

const API_KEY = 'AIza-dedup-secret-000111';

/** The member keys of every cluster with more than one member. */
function merged(result: DedupResult): string[][] {
  return result.clusters
    .filter((cluster) => cluster.members.length > 1)
    .map((cluster) => cluster.members);
}

function clusterOf(result: DedupResult, key: string): string[] {
  return result.clusters.find((cluster) => cluster.members.includes(key))?.members ?? [];
}

async function together(events: SourceEvent[], config: MatchingConfig): Promise<boolean> {
  const result = await deduplicate(events, config);
  return clusterOf(result, events[0].key).length === events.length;
}

// Three listings of one concert: a ticket shop, a city guide and a social post with typos.
const ticketShop = sourceEvent({
  source: 'tickets',
  id: 't-1',
  title: 'Nils Frahm Live in Concert',
});
const cityGuide = sourceEvent({
  source: 'guide',
  id: 'g-77',
  source_type: 'editorial',
  title: 'Nils Frahm – Live in Concert!',
  description:
    'Nils Frahm performs new piano and synthesizer pieces in an intimate evening at Columbia Theater.',
  highlights: ['Seated show', 'Bar opens 19:00'],
  location: eventLocation({ lat: 52.4842, lon: 13.3907, geo_confidence: 0.9 }),
});
const socialPost = sourceEvent({
  source: 'social',
  id: 'fb-5',
  source_type: 'social',
  title: 'Nils Frahm live in concret',
  start: '2025-06-01T19:45:00+02:00',
  description:
    'Nils Frahm performs new piano and synthesizer works at the Columbia Theater tonight!',
  categories: ['music', 'Live'],
  location: eventLocation({ name: 'Columbia Theater Berlin', geo_confidence: 0.88 }),
});

// A second listing of the same film 45 minutes off, on a badly geocoded open-air cinema, with no text to compare.
const filmShowing = sourceEvent({
  source: 'cinema',
  id: 'f-1',
  title: 'Casablanca',
  short_description: '',
  description: '',
  categories: ['Film'],
  start: '2025-06-01T21:30:00+02:00',
  location: eventLocation({ name: 'Freiluftkino Kreuzberg', geo_confidence: 0.5 }),
});
const filmListing = sourceEvent({
  ...filmShowing,
  source: 'guide',
  id: 'f-2',
  source_type: 'editorial',
  categories: ['film', 'Outdoor'],
  start: '2025-06-01T22:15:00+02:00',
});
const filmWeights = { date: 0.2, geo: 0.1, title: 0.6, description: 0.1 };

describe(deduplicate.name, () => {
  describe('hand-checked scenarios', () => {
    it('merges the same concert from three sources despite typos into one canonical event', async () => {
      const result = await deduplicate([socialPost, ticketShop, cityGuide], matchingConfig());

      expect(result.clusters).toHaveLength(1);
      const [cluster] = result.clusters;
      expect(cluster.members).toEqual(['guide:g-77', 'social:fb-5', 'tickets:t-1']);
      expect(cluster.canonical).toMatchObject({
        title: 'Nils Frahm – Live in Concert!',
        start: '2025-06-01T19:45:00+02:00',
        highlights: ['Seated show', 'Bar opens 19:00'],
        categories: ['music', 'Live'],
        sources: ['guide', 'social', 'tickets'],
      });
      expect(cluster.canonical.location?.geo_confidence).toBe(0.95);
      expect(cluster.internalSimilarity).toBeGreaterThanOrEqual(0.75);
    });

    it('keeps different events at the same venue on the same day apart', async () => {
      const comedy = sourceEvent({
        source: 'guide',
        id: 'c-1',
        title: 'Stand-up Comedy Open Mic',
        short_description: 'New comedians try out material',
        description: 'Ten comedians try out new material on the small stage, hosted by Jo Miller.',
        start: '2025-06-01T19:30:00+02:00',
        categories: ['Comedy'],
      });
      const brunch = sourceEvent({
        source: 'guide',
        id: 'c-2',
        title: 'Sunday Jazz Brunch',
        start: '2025-06-01T11:00:00+02:00',
      });

      const result = await deduplicate([ticketShop, comedy, brunch], matchingConfig());

      expect(result.clusters.map((cluster) => cluster.members)).toEqual([
        ['guide:c-1'],
        ['guide:c-2'],
        ['tickets:t-1'],
      ]);
      expect(result.stats.ambiguous).toBe(1);
    });

    it('keeps the same title in different cities apart', async () => {
      const hamburg = sourceEvent({
        source: 'guide',
        id: 'hh-1',
        source_type: 'editorial',
        description:
          'Nils Frahm performs new piano and synthesizer works in an intimate evening at the Elbphilharmonie in Hamburg.',
        location: eventLocation({
          name: 'Elbphilharmonie',
          city: 'Hamburg',
          lat: 53.5413,
          lon: 9.9841,
        }),
      });

      const result = await deduplicate([ticketShop, hamburg], matchingConfig());

      expect(merged(result)).toEqual([]);
    });

    it('keeps a touring show apart even with identical text: confident locations too far apart never auto-match', async () => {
      const berlin = sourceEvent({
        ...cityGuide,
        source: 'tour-site',
        id: 'ber',
        source_type: 'ticketing',
      });
      const hamburg = sourceEvent({
        ...cityGuide,
        source: 'tour-site',
        id: 'ham',
        source_type: 'ticketing',
        location: eventLocation({
          name: 'Elbphilharmonie',
          city: 'Hamburg',
          lat: 53.5413,
          lon: 9.9841,
          geo_confidence: 0.95,
        }),
      });

      const result = await deduplicate([berlin, hamburg], matchingConfig());

      // Same title, time and text give 0.75 = thresholds.high; the geo veto makes it ambiguous.
      expect(result.stats).toMatchObject({ matches: 0, ambiguous: 1 });
      expect(merged(result)).toEqual([]);
    });

    it('merges two listings of a film once a Film category override weighs the title', async () => {
      const withOverride = matchingConfig((c) => {
        c.category_weights.priority = ['Film'];
        c.category_weights.overrides = { Film: filmWeights };
      });

      expect(await together([filmShowing, filmListing], matchingConfig())).toBe(false);
      expect(await together([filmShowing, filmListing], withOverride)).toBe(true);
    });
  });

  describe('each configuration section moves the result the expected way', () => {
    // Same film listing, 45 min apart, pinned 6 km apart: date 0.7, geo 0.4, title 1, description 0.5.
    const pinned = sourceEvent({
      ...filmShowing,
      location: eventLocation({ lat: 52.5, lon: 13.4 }),
    });
    const pinnedAway = sourceEvent({
      ...filmListing,
      location: eventLocation({ lat: 52.554, lon: 13.4, geo_confidence: 0.7 }),
    });
    const pinnedAwayConfident = sourceEvent({
      ...pinnedAway,
      location: eventLocation({ lat: 52.554, lon: 13.4 }),
    });

    it('scoring: more weight on the title merges listings that agree only on the title', async () => {
      expect(
        await together(
          [filmShowing, filmListing],
          matchingConfig((c) => (c.scoring = filmWeights)),
        ),
      ).toBe(true);
    });

    it('thresholds: a lower high threshold merges an ambiguous pair, a higher one splits a match', async () => {
      expect(
        await together(
          [filmShowing, filmListing],
          matchingConfig((c) => (c.thresholds.high = 0.6)),
        ),
      ).toBe(true);
      expect(await together([ticketShop, cityGuide], matchingConfig())).toBe(true);
      expect(
        await together(
          [ticketShop, cityGuide],
          matchingConfig((c) => (c.thresholds.high = 0.99)),
        ),
      ).toBe(false);
    });

    it('geo: a larger max_distance_km, a lower min_confidence or a higher neutral_score merges', async () => {
      // 0.3·0.7 (date) + 0.25·0.4 (geo, 6 km of 10) + 0.3·1 (title) + 0.15·0.5 (no text) = 0.685.
      expect(await together([pinned, pinnedAwayConfident], matchingConfig())).toBe(false);
      expect(
        await together(
          [pinned, pinnedAwayConfident],
          matchingConfig((c) => (c.geo.max_distance_km = 50)),
        ),
      ).toBe(true);
      // Geocoded with 0.7 confidence, the same spot only scores neutral 0.5 until min_confidence drops below 0.7.
      const sameSpot = sourceEvent({
        ...pinnedAway,
        location: eventLocation({ lat: 52.5, lon: 13.4, geo_confidence: 0.7 }),
      });
      expect(await together([pinned, sameSpot], matchingConfig())).toBe(false);
      expect(
        await together(
          [pinned, sameSpot],
          matchingConfig((c) => (c.geo.min_confidence = 0.6)),
        ),
      ).toBe(true);
      expect(
        await together(
          [pinned, pinnedAway],
          matchingConfig((c) => (c.geo.neutral_score = 1)),
        ),
      ).toBe(true);
    });

    it('date: widening time_close_minutes or raising far_factor merges listings two hours apart', async () => {
      const early = sourceEvent({
        ...ticketShop,
        description: '',
        short_description: '',
        start: '2025-06-01T18:00:00+02:00',
      });
      const late = sourceEvent({ ...early, source: 'guide', start: '2025-06-01T20:00:00+02:00' });

      expect(await together([early, late], matchingConfig())).toBe(false);
      expect(
        await together(
          [early, late],
          matchingConfig((c) => (c.date.time_close_minutes = 150)),
        ),
      ).toBe(true);
      expect(
        await together(
          [early, late],
          matchingConfig((c) => (c.date.far_factor = 0.7)),
        ),
      ).toBe(true);
    });

    it('title: lower blend bounds merge loosely similar titles; cross_source_type applies across source types only', async () => {
      const lake = sourceEvent({
        title: 'Jazz at the Lake',
        description: '',
        short_description: '',
      });
      const lakeside = sourceEvent({
        ...lake,
        source: 'guide',
        source_type: 'editorial',
        title: 'Lakeside Jazz Evening',
      });
      const lakesideSameType = sourceEvent({ ...lakeside, source_type: lake.source_type });
      const lenient = {
        primary_weight: 0.7,
        secondary_weight: 0.3,
        blend_lower: 0.1,
        blend_upper: 0.3,
      };

      expect(await together([lake, lakeside], matchingConfig())).toBe(false);
      expect(
        await together(
          [lake, lakeside],
          matchingConfig((c) => Object.assign(c.title, lenient)),
        ),
      ).toBe(true);
      const crossOnly = matchingConfig((c) => (c.title.cross_source_type = lenient));
      expect(await together([lake, lakeside], crossOnly)).toBe(true);
      expect(await together([lake, lakesideSameType], crossOnly)).toBe(false);
    });

    it('cluster: a smaller max_cluster_size or a higher min_internal_similarity splits a cluster', async () => {
      const three = [ticketShop, cityGuide, socialPost];

      expect(merged(await deduplicate(three, matchingConfig()))).toHaveLength(1);
      const capped = await deduplicate(
        three,
        matchingConfig((c) => (c.cluster.max_cluster_size = 2)),
      );
      expect(capped.clusters.map((cluster) => cluster.members.length).sort()).toEqual([1, 2]);
      const strict = await deduplicate(
        three,
        matchingConfig((c) => (c.cluster.min_internal_similarity = 0.99)),
      );
      expect(strict.clusters).toHaveLength(3);
    });

    it('canonical: the title strategy picks which title the merged event gets', async () => {
      const shortest = matchingConfig((c) => (c.canonical.field_strategies.title = 'shortest'));

      const result = await deduplicate([ticketShop, cityGuide, socialPost], shortest);

      // Two titles share the shortest length; ties go to the code-unit smaller one, whatever the input order.
      expect(result.clusters[0].canonical.title).toBe('Nils Frahm Live in Concert');
    });

    it('category_weights: an override only applies when both events share the category', async () => {
      const override = (c: MatchingConfig): void => {
        c.category_weights.priority = ['Outdoor', 'Film'];
        c.category_weights.overrides = { Film: filmWeights };
      };
      const musicListing = sourceEvent({ ...filmListing, categories: ['Music'] });

      expect(await together([filmShowing, filmListing], matchingConfig(override))).toBe(true);
      expect(await together([filmShowing, musicListing], matchingConfig(override))).toBe(false);
    });

    describe('ai', () => {
      let stub: GeminiStub | undefined;

      afterEach(async () => {
        await stub?.stop();
        stub = undefined;
      });

      async function runWithAi(
        config: MatchingConfig,
        reply: () => StubReply,
        events: SourceEvent[] = [filmShowing, filmListing],
      ): Promise<DedupResult> {
        stub = new GeminiStub(reply);
        const baseUrl = await stub.start();
        const ai = new AiMatcher(config.ai, {
          baseUrl,
          timeoutMs: 2000,
          logger: { warn: () => undefined },
        });
        return deduplicate(events, config, { ai });
      }

      const aiOn = (adjust: (c: MatchingConfig) => void = () => undefined): MatchingConfig =>
        matchingConfig((c) => {
          c.ai.enabled = true;
          c.ai.api_key = API_KEY;
          adjust(c);
        });
      const yes = (): StubReply =>
        geminiReply(
          { same_event: true, confidence: 0.8, reason: 'Same film, same cinema.' },
          { promptTokenCount: 500, candidatesTokenCount: 40 },
        );

      it('merges an ambiguous pair the model confirms, through the real client, and reports its cost', async () => {
        const result = await runWithAi(aiOn(), yes);

        expect(merged(result)).toEqual([['cinema:f-1', 'guide:f-2']]);
        expect(result.clusters[0].internalSimilarity).toBeGreaterThanOrEqual(0.75);
        expect(result.stats).toMatchObject({
          ambiguous: 1,
          matches: 0,
          aiCalls: 1,
          inputTokens: 500,
          outputTokens: 40,
        });
        expect(result.stats.aiCostUsd).toBeCloseTo((500 * 0.3 + 40 * 2.5) / 1e6, 12);
        expect(stub?.requests[0].headers['x-goog-api-key']).toBe(API_KEY);
        expect(JSON.stringify(result)).not.toContain(API_KEY);
      });

      it('sends at most aiMaxPairs ambiguous pairs per run, the highest-scoring first', async () => {
        const config = aiOn();
        stub = new GeminiStub(yes);
        const baseUrl = await stub.start();
        const ai = new AiMatcher(config.ai, {
          baseUrl,
          timeoutMs: 2000,
          logger: { warn: () => undefined },
        });
        const { events } = syntheticEvents({ count: 300, duplicateShare: 0.3, days: 3, seed: 7 });

        const unbounded = await deduplicate(events, matchingConfig(), {});
        const bounded = await deduplicate(events, config, { ai, aiMaxPairs: 3 });

        expect(unbounded.stats.ambiguous).toBeGreaterThan(3);
        expect(stub.requests).toHaveLength(3);
        expect(bounded.stats).toMatchObject({
          aiCalls: 3,
          aiOverBudget: unbounded.stats.ambiguous - 3,
        });
      });

      it('asks nothing when disabled or without a key, and keeps the pair apart', async () => {
        const disabled = await runWithAi(
          aiOn((c) => (c.ai.enabled = false)),
          yes,
        );
        expect(merged(disabled)).toEqual([]);
        expect(disabled.stats.aiCalls).toBe(0);
        await stub?.stop();

        const keyless = await runWithAi(
          aiOn((c) => (c.ai.api_key = '')),
          yes,
        );
        expect(merged(keyless)).toEqual([]);
        expect(stub?.requests).toHaveLength(0);
      });

      it('keeps the pair apart when confidence_threshold is above the answer', async () => {
        const result = await runWithAi(
          aiOn((c) => (c.ai.confidence_threshold = 0.9)),
          yes,
        );

        expect(merged(result)).toEqual([]);
        expect(result.stats.aiLowConfidence).toBe(1);
      });

      it('falls back to keeping the pair apart when the model is rate limited', async () => {
        const result = await runWithAi(aiOn(), () => ({ status: 429, body: '{}' }));

        expect(merged(result)).toEqual([]);
        expect(result.stats.aiFailures.rate_limited).toBe(1);
      });
    });
  });

  it('compares far fewer than n² pairs on a month of events and still finds every planted duplicate', async () => {
    const { events, duplicateGroups } = syntheticEvents({
      count: 2000,
      duplicateShare: 0.3,
      days: 30,
    });

    const result = await deduplicate(events, matchingConfig());

    expect(result.stats.pairsCompared).toBeLessThan((events.length * events.length) / 20);
    const lost = duplicateGroups.filter(
      (group) => clusterOf(result, group[0]).length < group.length,
    );
    expect(lost).toEqual([]);
  });

  it('gives the same clusters whatever the input order', async () => {
    const { events } = syntheticEvents({ count: 400, duplicateShare: 0.3, days: 2, seed: 3 });
    const shuffled = [...events].sort((a, b) =>
      a.title < b.title ? -1 : a.title > b.title ? 1 : 0,
    );
    const summary = (result: DedupResult): unknown =>
      result.clusters.map((c) => [
        c.id,
        c.members,
        c.internalSimilarity,
        c.canonical.title,
        c.canonical.start,
      ]);

    const [original, reordered] = await Promise.all([
      deduplicate(events, matchingConfig()),
      deduplicate(shuffled, matchingConfig()),
    ]);

    expect(summary(reordered)).toEqual(summary(original));
  });

  it('puts every event in exactly one cluster and never throws, for any well-formed events', async () => {
    const text = fc.string({ maxLength: 30 });
    const location = fc.option(
      fc.record({
        name: fc.option(text),
        city: fc.option(fc.constantFrom('Berlin', 'Hamburg', '')),
        lat: fc.option(fc.double({ min: 52.3, max: 52.7, noNaN: true })),
        lon: fc.option(fc.double({ min: 13.1, max: 13.7, noNaN: true })),
        geo_confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
      }),
    );
    const event = fc.record({
      source: fc.constantFrom('a', 'b', 'c'),
      source_type: fc.constantFrom('ticketing', 'editorial'),
      title: fc.oneof(fc.constantFrom('Concert', 'Jazz Night', 'Jazz Nigth', 'Live Music'), text),
      short_description: text,
      description: text,
      highlights: fc.array(text, { maxLength: 3 }),
      categories: fc.array(fc.constantFrom('Music', 'music', 'Film', 'Art'), { maxLength: 3 }),
      minutes: fc.integer({ min: 0, max: 600 }),
      location,
    });
    const config = fc.record({
      high: fc.double({ min: 0.3, max: 1, noNaN: true }),
      maxClusterSize: fc.integer({ min: 2, max: 6 }),
      minInternal: fc.double({ min: 0, max: 1, noNaN: true }),
    });

    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 25 }), config, async (raw, settings) => {
        const events = raw.map(({ minutes, ...fields }, index) =>
          sourceEvent({
            ...fields,
            id: String(index),
            start: new Date(Date.UTC(2025, 5, 1, 18) + minutes * 60_000).toISOString(),
          }),
        );
        const result = await deduplicate(
          events,
          matchingConfig((c) => {
            c.thresholds.high = settings.high;
            c.thresholds.low = Math.min(c.thresholds.low, settings.high);
            c.cluster.max_cluster_size = settings.maxClusterSize;
            c.cluster.min_internal_similarity = settings.minInternal;
          }),
        );

        const members = result.clusters.flatMap((cluster) => cluster.members).sort();
        expect(members).toEqual(events.map((e) => e.key).sort());
        expect(
          result.clusters.every((cluster) => cluster.members.length <= settings.maxClusterSize),
        ).toBe(true);
        expect(result.stats.events).toBe(events.length);
      }),
      { numRuns: 150 },
    );
  });
});
