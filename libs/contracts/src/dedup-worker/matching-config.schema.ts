// The whole MatchingConfig contract of dedup-worker (DESIGN.md) in one file, read top to bottom:
// every section class with its defaults, ranges and descriptions (~320 lines, by design).
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsPositive,
  IsString,
  Max,
  Min,
} from 'class-validator';
import {
  ConfigMap,
  Describe,
  Invariant,
  NestedConfig,
  Secret,
} from '../schema/config-field.decorators';
import {
  IsNotGreaterThanField,
  IsNotLessThanField,
  sumRule,
} from '../schema/cross-field.validators';
import { MaxCodePoints, MinCodePoints } from '../schema/text-length.validators';

/** Strategies for free-text fields when merging duplicates into one canonical event. */
export const TEXT_STRATEGIES = ['longest', 'shortest', 'most_common', 'first'] as const;
/** Strategies for the title: the text strategies plus `longest_non_generic`. */
export const TITLE_STRATEGIES = ['longest_non_generic', ...TEXT_STRATEGIES] as const;
/** Strategies for list fields (highlights, categories). */
export const LIST_STRATEGIES = ['union', 'intersection', 'most_common', 'first'] as const;
/** Strategies for the location. */
export const LOCATION_STRATEGIES = ['most_complete', 'most_common', 'first'] as const;
/** Strategies for the start time. */
export const START_STRATEGIES = ['earliest', 'latest', 'most_common', 'first'] as const;

export type TextStrategy = (typeof TEXT_STRATEGIES)[number];
export type TitleStrategy = (typeof TITLE_STRATEGIES)[number];
export type ListStrategy = (typeof LIST_STRATEGIES)[number];
export type LocationStrategy = (typeof LOCATION_STRATEGIES)[number];
export type StartStrategy = (typeof START_STRATEGIES)[number];

/** How far the scoring weights may be from summing to exactly 1 (inclusive, see isWithinSum). */
export const WEIGHT_SUM_TOLERANCE = 0.001;
/** Most entries in `category_weights.priority` and `category_weights.overrides`. */
export const MAX_CATEGORY_ENTRIES = 100;
/** Longest category name, in characters (Unicode code points, as JSON Schema counts). */
export const MAX_CATEGORY_LENGTH = 100;

// Composite decorators apply in the order written, so the type check is registered (and reported) first.
function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}

// Real JSON numbers only: class-validator's IsNumber also turns away NaN and ±Infinity here.
function IsFiniteNumber(): PropertyDecorator {
  return IsNumber(
    { allowNaN: false, allowInfinity: false },
    { message: '$property must be a finite number' },
  );
}

function IsUnitInterval(): PropertyDecorator {
  return compose(IsFiniteNumber(), Min(0), Max(1));
}

function IsPositiveNumber(): PropertyDecorator {
  return compose(IsFiniteNumber(), IsPositive());
}

function IsIntInRange(min: number, max?: number): PropertyDecorator {
  return max === undefined ? compose(IsInt(), Min(min)) : compose(IsInt(), Min(min), Max(max));
}

@Invariant<ScoringWeights>(
  sumRule({
    equals: 1,
    tolerance: WEIGHT_SUM_TOLERANCE,
    subject: 'weights',
    description: `The four weights must sum to 1 within ${WEIGHT_SUM_TOLERANCE}, inclusive.`,
  }),
)
export class ScoringWeights {
  @Describe('Weight of the date similarity in the overall score')
  @IsUnitInterval()
  date = 0.3;

  @Describe('Weight of the geographic similarity in the overall score')
  @IsUnitInterval()
  geo = 0.25;

  @Describe('Weight of the title similarity in the overall score')
  @IsUnitInterval()
  title = 0.3;

  @Describe('Weight of the description similarity in the overall score')
  @IsUnitInterval()
  description = 0.15;
}

export class Thresholds {
  @Describe('Score at or above which a pair of events is a duplicate')
  @IsUnitInterval()
  high = 0.75;

  @Describe(
    'Score below which a pair of events is not a duplicate; scores in between are ambiguous',
  )
  @IsUnitInterval()
  @IsNotGreaterThanField('high')
  low = 0.35;
}

export class GeoConfig {
  @Describe('Distance in kilometres beyond which two locations are not considered the same place')
  @IsPositiveNumber()
  max_distance_km = 10.0;

  @Describe('Least geocoding confidence for coordinates to be compared')
  @IsUnitInterval()
  min_confidence = 0.85;

  @Describe('Geographic score used when coordinates are missing or not confident enough')
  @IsUnitInterval()
  neutral_score = 0.5;
}

export class DateConfig {
  @Describe('Start times at most this many minutes apart count as the same time')
  @IsPositiveNumber()
  time_tolerance_minutes = 30;

  @Describe('Start times at most this many minutes apart count as close')
  @IsPositiveNumber()
  @IsNotLessThanField('time_tolerance_minutes')
  time_close_minutes = 90;

  @Describe('Factor applied to the date score of start times that are close but not the same')
  @IsUnitInterval()
  close_factor = 0.7;

  @Describe('Factor applied to the date score of start times farther apart than close')
  @IsUnitInterval()
  far_factor = 0.3;
}

export class TitleSimilarityConfig {
  @Describe('Weight of the primary title similarity measure')
  @IsUnitInterval()
  primary_weight = 0.7;

  @Describe('Weight of the secondary title similarity measure')
  @IsUnitInterval()
  secondary_weight = 0.3;

  @Describe('Lower bound of the range in which the primary and secondary title scores are blended')
  @IsUnitInterval()
  @IsNotGreaterThanField('blend_upper')
  blend_lower = 0.4;

  @Describe('Upper bound of the range in which the primary and secondary title scores are blended')
  @IsUnitInterval()
  blend_upper = 0.8;
}

export class TitleConfig extends TitleSimilarityConfig {
  @Describe('Title settings for events from different source types; null uses the settings above')
  @NestedConfig(() => TitleSimilarityConfig, { nullable: true })
  cross_source_type: TitleSimilarityConfig | null = null;
}

export class ClusterConfig {
  @Describe('Largest number of events in one duplicate cluster')
  @IsIntInRange(2)
  max_cluster_size = 15;

  @Describe('Least similarity within a cluster for it to be kept')
  @IsUnitInterval()
  min_internal_similarity = 0.4;
}

export class FieldStrategies {
  @Describe('How the canonical title is chosen among the duplicates')
  @IsIn(TITLE_STRATEGIES)
  title: TitleStrategy = 'longest_non_generic';

  @Describe('How the canonical short description is chosen among the duplicates')
  @IsIn(TEXT_STRATEGIES)
  short_description: TextStrategy = 'longest';

  @Describe('How the canonical description is chosen among the duplicates')
  @IsIn(TEXT_STRATEGIES)
  description: TextStrategy = 'longest';

  @Describe('How the highlights of the duplicates are combined')
  @IsIn(LIST_STRATEGIES)
  highlights: ListStrategy = 'union';

  @Describe('How the canonical location is chosen among the duplicates')
  @IsIn(LOCATION_STRATEGIES)
  location: LocationStrategy = 'most_complete';

  @Describe('How the categories of the duplicates are combined')
  @IsIn(LIST_STRATEGIES)
  categories: ListStrategy = 'union';

  @Describe('How the canonical start time is chosen among the duplicates')
  @IsIn(START_STRATEGIES)
  start: StartStrategy = 'earliest';
}

export class CanonicalConfig {
  @Describe('Merge strategy for each field of the canonical event')
  @NestedConfig(() => FieldStrategies)
  field_strategies = new FieldStrategies();
}

export class AiConfig {
  @Describe('Use the AI model to decide ambiguous pairs')
  @IsBoolean()
  enabled = false;

  @Describe('API key of the AI provider (secret: write-only, set through the secrets endpoint)')
  @Secret()
  api_key?: string = '';

  @Describe('Name of the AI model')
  @IsString()
  @MinCodePoints(1, { message: '$property must not be empty' })
  @MaxCodePoints(100)
  model = 'gemini-2.5-flash';

  @Describe('Sampling temperature of the AI model')
  @IsFiniteNumber()
  @Min(0)
  @Max(2)
  temperature = 0.1;

  @Describe('Most tokens the AI model may produce per request')
  @IsIntInRange(1, 65536)
  max_output_tokens = 2048;

  @Describe('Most AI requests in flight at once')
  @IsIntInRange(1, 100)
  max_concurrent_requests = 5;

  @Describe('Least AI confidence for its verdict to be used')
  @IsUnitInterval()
  confidence_threshold = 0.6;

  @Describe('Cache AI answers so that the same pair is not asked twice')
  @IsBoolean()
  cache_enabled = true;

  @Describe('Price in USD per million input tokens, for cost reports')
  @IsFiniteNumber()
  @Min(0)
  cost_per_1m_input_tokens = 0.3;

  @Describe('Price in USD per million output tokens, for cost reports')
  @IsFiniteNumber()
  @Min(0)
  cost_per_1m_output_tokens = 2.5;
}

export class CategoryWeights {
  @Describe(
    'Category names in priority order, deciding which override applies to an event with several categories',
  )
  @IsArray()
  @ArrayMaxSize(MAX_CATEGORY_ENTRIES)
  @IsString({ each: true, message: '$property entries must be strings' })
  @MinCodePoints(1, { each: true, message: '$property entries must not be empty' })
  @MaxCodePoints(MAX_CATEGORY_LENGTH, {
    each: true,
    message: `$property entries must be at most ${MAX_CATEGORY_LENGTH} characters`,
  })
  priority: string[] = [];

  @Describe('Scoring weights per category, used instead of scoring for events of that category')
  @ConfigMap(() => ScoringWeights, { maxEntries: MAX_CATEGORY_ENTRIES })
  overrides: Record<string, ScoringWeights> = {};
}

/** The configuration of the dedup-worker service. */
export class MatchingConfig {
  @Describe('Weights of the similarity measures in the overall score')
  @NestedConfig(() => ScoringWeights)
  scoring = new ScoringWeights();

  @Describe('Score thresholds that classify a pair of events')
  @NestedConfig(() => Thresholds)
  thresholds = new Thresholds();

  @Describe('Geographic similarity settings')
  @NestedConfig(() => GeoConfig)
  geo = new GeoConfig();

  @Describe('Date similarity settings')
  @NestedConfig(() => DateConfig)
  date = new DateConfig();

  @Describe('Title similarity settings')
  @NestedConfig(() => TitleConfig)
  title = new TitleConfig();

  @Describe('Clustering settings')
  @NestedConfig(() => ClusterConfig)
  cluster = new ClusterConfig();

  @Describe('How duplicates are merged into one canonical event')
  @NestedConfig(() => CanonicalConfig)
  canonical = new CanonicalConfig();

  @Describe('AI tie-breaker settings')
  @NestedConfig(() => AiConfig)
  ai = new AiConfig();

  @Describe('Per-category scoring weights')
  @NestedConfig(() => CategoryWeights)
  category_weights = new CategoryWeights();
}
