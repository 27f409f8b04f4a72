import {
  defaultConfig,
  DEDUP_WORKER_SERVICE,
  findServiceDefinition,
  LIST_STRATEGIES,
  LOCATION_STRATEGIES,
  MatchingConfig,
  START_STRATEGIES,
  TEXT_STRATEGIES,
  TITLE_STRATEGIES,
  validateConfig,
  type ServiceDefinition,
} from '@app/contracts';

// The defaults listed in DESIGN.md ("dedup-worker's MatchingConfig"), written out by hand on purpose.
const DESIGN_DEFAULTS = {
  scoring: { date: 0.3, geo: 0.25, title: 0.3, description: 0.15 },
  thresholds: { high: 0.75, low: 0.35 },
  geo: { max_distance_km: 10.0, min_confidence: 0.85, neutral_score: 0.5 },
  date: { time_tolerance_minutes: 30, time_close_minutes: 90, close_factor: 0.7, far_factor: 0.3 },
  title: {
    primary_weight: 0.7,
    secondary_weight: 0.3,
    blend_lower: 0.4,
    blend_upper: 0.8,
    cross_source_type: null,
  },
  cluster: { max_cluster_size: 15, min_internal_similarity: 0.4 },
  canonical: {
    field_strategies: {
      title: 'longest_non_generic',
      short_description: 'longest',
      description: 'longest',
      highlights: 'union',
      location: 'most_complete',
      categories: 'union',
      start: 'earliest',
    },
  },
  ai: {
    enabled: false,
    model: 'gemini-2.5-flash',
    temperature: 0.1,
    max_output_tokens: 2048,
    max_concurrent_requests: 5,
    confidence_threshold: 0.6,
    cache_enabled: true,
    cost_per_1m_input_tokens: 0.3,
    cost_per_1m_output_tokens: 2.5,
  },
  category_weights: { priority: [], overrides: {} },
};

function dedupWorker(): ServiceDefinition {
  const definition = findServiceDefinition(DEDUP_WORKER_SERVICE);
  if (definition === undefined) {
    throw new Error('dedup-worker is not registered');
  }
  return definition;
}

describe(MatchingConfig.name, () => {
  it('has the design defaults as class field initializers, the API key empty', () => {
    const sut = new MatchingConfig();

    expect(JSON.parse(JSON.stringify(sut))).toEqual({
      ...DESIGN_DEFAULTS,
      ai: { ...DESIGN_DEFAULTS.ai, api_key: '' },
    });
  });

  it('normalizes to the design defaults, without the secret, keys in design order', () => {
    const defaults = defaultConfig(dedupWorker());

    expect(defaults).toEqual(DESIGN_DEFAULTS);
    expect(JSON.stringify(defaults)).toBe(JSON.stringify(DESIGN_DEFAULTS));
  });

  it('accepts its own defaults', () => {
    const result = validateConfig(dedupWorker(), defaultConfig(dedupWorker()));

    expect(result).toEqual({ ok: true, config: DESIGN_DEFAULTS });
  });

  it('exports the allowed strategies per field kind', () => {
    expect(TEXT_STRATEGIES).toEqual(['longest', 'shortest', 'most_common', 'first']);
    expect(TITLE_STRATEGIES).toEqual(['longest_non_generic', ...TEXT_STRATEGIES]);
    expect(LIST_STRATEGIES).toEqual(['union', 'intersection', 'most_common', 'first']);
    expect(LOCATION_STRATEGIES).toEqual(['most_complete', 'most_common', 'first']);
    expect(START_STRATEGIES).toEqual(['earliest', 'latest', 'most_common', 'first']);
  });

  it.each([
    ['title', TITLE_STRATEGIES],
    ['short_description', TEXT_STRATEGIES],
    ['description', TEXT_STRATEGIES],
    ['highlights', LIST_STRATEGIES],
    ['location', LOCATION_STRATEGIES],
    ['categories', LIST_STRATEGIES],
    ['start', START_STRATEGIES],
  ] as const)('accepts exactly the %s strategies of its set', (field, allowed) => {
    const all = new Set<string>([
      ...TITLE_STRATEGIES,
      ...LIST_STRATEGIES,
      ...LOCATION_STRATEGIES,
      ...START_STRATEGIES,
    ]);
    for (const strategy of all) {
      const result = validateConfig(dedupWorker(), {
        canonical: { field_strategies: { [field]: strategy } },
      });

      expect(result.ok).toBe((allowed as readonly string[]).includes(strategy));
    }
  });
});
