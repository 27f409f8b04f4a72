import type {
  DateConfig,
  GeoConfig,
  MatchingConfig,
  ScoringWeights,
  Thresholds,
  TitleConfig,
  TitleSimilarityConfig,
} from '@app/contracts';
import { startMillis, type EventLocation, type SourceEvent } from './event';
import {
  diceSimilaritySorted,
  haversineKm,
  levenshteinRatio,
  normaliseText,
  tokenSet,
} from './similarity';

/** Score used when there is nothing to compare (no description on either side). */
export const NEUTRAL_SCORE = 0.5;
/** Start times farther apart than this never describe the same occurrence: date score 0. */
export const MAX_SAME_EVENT_GAP_MINUTES = 24 * 60;
/** Factor applied to the combined title similarity below blend_lower (weak evidence). */
export const TITLE_DAMPING = 0.5;

/** How a scored pair is classified against the thresholds. */
export type PairClass = 'match' | 'ambiguous' | 'no_match';

/** The four similarity scores of a pair, their weighted total and its class. */
export interface PairScore {
  date: number;
  geo: number;
  title: number;
  description: number;
  total: number;
  classification: PairClass;
  /** The category whose override weights were used, or null for `scoring`. */
  weightsCategory: string | null;
}

/**
 * What scoring needs of an event, computed once per event rather than once per pair. Word sets are
 * sorted ids from a vocabulary shared by the events scored together, so Dice is a merge of two
 * integer lists instead of string hashing.
 */
export interface EventFeatures {
  event: SourceEvent;
  key: string;
  startMs: number;
  normalisedTitle: string;
  titleTokens: Int32Array;
  /** Words of the description, or of the short description when there is none; empty if neither. */
  descriptionTokens: Int32Array;
  categories: Set<string>;
}

/** Precomputes normalised text, word ids and start time of events that will be compared with one another. */
export function eventFeatures(events: readonly SourceEvent[]): EventFeatures[] {
  const vocabulary = new Map<string, number>();
  const ids = (normalised: string): Int32Array => {
    const result = Int32Array.from(tokenSet(normalised), (token) => {
      let id = vocabulary.get(token);
      if (id === undefined) {
        id = vocabulary.size;
        vocabulary.set(token, id);
      }
      return id;
    });
    return result.sort();
  };
  return events.map((event) => {
    const normalisedTitle = normaliseText(event.title);
    const description = normaliseText(event.description);
    return {
      event,
      key: event.key,
      startMs: startMillis(event.start),
      normalisedTitle,
      titleTokens: ids(normalisedTitle),
      descriptionTokens: ids(
        description !== '' ? description : normaliseText(event.short_description),
      ),
      categories: new Set(event.categories.map(categoryKey)),
    };
  });
}

/**
 * Date score of two start times `deltaMinutes` apart: 1 within time_tolerance_minutes,
 * close_factor within time_close_minutes, far_factor beyond, and 0 beyond 24 h.
 */
export function dateScore(deltaMinutes: number, config: DateConfig): number {
  const delta = Math.abs(deltaMinutes);
  if (delta <= config.time_tolerance_minutes) {
    return 1;
  }
  if (delta <= config.time_close_minutes) {
    return config.close_factor;
  }
  // A day apart is a different occurrence (a recurring show), not a misreported time.
  return delta <= MAX_SAME_EVENT_GAP_MINUTES ? config.far_factor : 0;
}

/**
 * Geo score: neutral_score when either side lacks coordinates or has geo_confidence below
 * min_confidence (missing confidence counts as 0), else max(0, 1 − distance / max_distance_km).
 */
export function geoScore(
  a: EventLocation | null,
  b: EventLocation | null,
  config: GeoConfig,
): number {
  if (
    !isConfidentlyPlaced(a, config.min_confidence) ||
    !isConfidentlyPlaced(b, config.min_confidence)
  ) {
    return config.neutral_score;
  }
  const km = haversineKm(a.lat, a.lon, b.lat, b.lon);
  return Math.max(0, 1 - km / config.max_distance_km);
}

/** True when both locations are confidently placed and farther apart than max_distance_km. */
export function confidentlyApart(
  a: EventLocation | null,
  b: EventLocation | null,
  config: GeoConfig,
): boolean {
  return (
    isConfidentlyPlaced(a, config.min_confidence) &&
    isConfidentlyPlaced(b, config.min_confidence) &&
    haversineKm(a.lat, a.lon, b.lat, b.lon) > config.max_distance_km
  );
}

type PlacedLocation = EventLocation & { lat: number; lon: number; geo_confidence: number };

function isConfidentlyPlaced(
  location: EventLocation | null,
  minConfidence: number,
): location is PlacedLocation {
  return (
    location !== null &&
    location.lat !== null &&
    location.lon !== null &&
    (location.geo_confidence ?? 0) >= minConfidence
  );
}

/**
 * Weighted mean of the primary (Dice over word sets) and secondary (Levenshtein ratio) title
 * similarities of two normalised titles; equal weights when both weights are 0.
 */
export function combinedTitleSimilarity(
  a: Pick<EventFeatures, 'normalisedTitle' | 'titleTokens'>,
  b: Pick<EventFeatures, 'normalisedTitle' | 'titleTokens'>,
  params: TitleSimilarityConfig,
): number {
  const primary = diceSimilaritySorted(a.titleTokens, b.titleTokens);
  const secondary = levenshteinRatio(a.normalisedTitle, b.normalisedTitle);
  const weightSum = params.primary_weight + params.secondary_weight;
  if (weightSum === 0) {
    return (primary + secondary) / 2;
  }
  return (params.primary_weight * primary + params.secondary_weight * secondary) / weightSum;
}

/**
 * Maps a combined title similarity c to the title score: the piecewise-linear curve through
 * (0, 0), (L, D·L), (U, 1 − D·(1 − U)), (1, 1) with L = blend_lower, U = blend_upper, D = 0.5.
 * Below L it is damped to D·c (weak evidence), above U it is lifted to 1 − D·(1 − c) (strong
 * match), linear in between; monotone in c, and raising L or U never raises the score.
 */
export function titleBlend(combined: number, params: TitleSimilarityConfig): number {
  const c = clamp01(combined);
  const lower = params.blend_lower;
  const upper = Math.max(params.blend_upper, lower);
  if (c < lower) {
    return TITLE_DAMPING * c;
  }
  if (c > upper) {
    return 1 - TITLE_DAMPING * (1 - c);
  }
  if (upper === lower) {
    // A zero-width band: c sits exactly on the bound, which counts as the start of the band.
    return TITLE_DAMPING * lower;
  }
  const atLower = TITLE_DAMPING * lower;
  const atUpper = 1 - TITLE_DAMPING * (1 - upper);
  return atLower + ((c - lower) / (upper - lower)) * (atUpper - atLower);
}

/** The title parameters for a pair: cross_source_type when the source types differ and it is set. */
export function titleParams(
  sourceTypeA: string,
  sourceTypeB: string,
  config: TitleConfig,
): TitleSimilarityConfig {
  return sourceTypeA !== sourceTypeB && config.cross_source_type !== null
    ? config.cross_source_type
    : config;
}

/** Title score of two events: their combined similarity passed through the blend. */
export function titleScore(a: EventFeatures, b: EventFeatures, config: TitleConfig): number {
  if (a.normalisedTitle === '' && b.normalisedTitle === '') {
    // Titles of punctuation only say nothing either way.
    return NEUTRAL_SCORE;
  }
  const params = titleParams(a.event.source_type, b.event.source_type, config);
  return titleBlend(combinedTitleSimilarity(a, b, params), params);
}

/**
 * Dice similarity of the description words (short description as a fallback); neutral 0.5 when
 * either side has neither, since a source that publishes no text says nothing about identity.
 */
export function descriptionScore(a: EventFeatures, b: EventFeatures): number {
  if (a.descriptionTokens.length === 0 || b.descriptionTokens.length === 0) {
    return NEUTRAL_SCORE;
  }
  return diceSimilaritySorted(a.descriptionTokens, b.descriptionTokens);
}

/** Classifies a total: ≥ high is a match, < low is not, anything between is ambiguous. */
export function classify(total: number, thresholds: Thresholds): PairClass {
  if (total >= thresholds.high) {
    return 'match';
  }
  return total < thresholds.low ? 'no_match' : 'ambiguous';
}

/** Scores pairs of events under one configuration. */
export class PairScorer {
  private readonly priority: string[];
  private readonly overrides = new Map<string, ScoringWeights>();
  private readonly defaultWeights: { weights: ScoringWeights; category: string | null };

  constructor(private readonly config: MatchingConfig) {
    // Categories are compared case-insensitively: sources disagree on "Music" vs "music".
    this.priority = config.category_weights.priority.map(categoryKey);
    this.defaultWeights = { weights: config.scoring, category: null };
    for (const [category, weights] of Object.entries(config.category_weights.overrides)) {
      this.overrides.set(categoryKey(category), weights);
    }
  }

  /** The weights for a pair and the category that chose them (null: `scoring`). */
  weightsFor(
    a: EventFeatures,
    b: EventFeatures,
  ): { weights: ScoringWeights; category: string | null } {
    for (const category of this.priority) {
      const weights = this.overrides.get(category);
      if (weights !== undefined && a.categories.has(category) && b.categories.has(category)) {
        return { weights, category };
      }
    }
    return this.defaultWeights;
  }

  /** The four scores of a pair, their weighted total and its class. */
  score(a: EventFeatures, b: EventFeatures): PairScore {
    const date = dateScore((a.startMs - b.startMs) / 60_000, this.config.date);
    const geo = geoScore(a.event.location, b.event.location, this.config.geo);
    const title = titleScore(a, b, this.config.title);
    const description = descriptionScore(a, b);
    const { weights, category } = this.weightsFor(a, b);
    const total = clamp01(
      weights.date * date +
        weights.geo * geo +
        weights.title * title +
        weights.description * description,
    );
    let classification = classify(total, this.config.thresholds);
    // Geo veto: two confidently placed events farther apart than max_distance_km are not at the
    // same place, so however alike their titles, times and texts (a touring show, a chain's
    // branches), they are never an automatic match; at most ambiguous, for the AI to decide.
    if (
      classification === 'match' &&
      confidentlyApart(a.event.location, b.event.location, this.config.geo)
    ) {
      classification = 'ambiguous';
    }
    return {
      date,
      geo,
      title,
      description,
      total,
      classification,
      weightsCategory: category,
    };
  }
}

function categoryKey(category: string): string {
  return category.trim().toLowerCase();
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
