// class-transformer's @Type reads design:type through the reflect-metadata polyfill.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { MaxCodePoints } from './text-length.validators';

/** A configuration class: every field has an initializer, so `new C()` is the default configuration. */
export type ConfigClass<T extends object = object> = new () => T;

/** A rule across several fields of one object, checked once each field is valid on its own. */
export interface ConfigInvariant<T extends object> {
  /** Shown in the JSON Schema so that API clients learn the rule. */
  readonly description: string;
  /** Returns the problem, phrased to follow the object's path (`weights must sum to 1 (got 1.05)`), or undefined. */
  readonly check: (value: T) => string | undefined;
  /**
   * The rule in machine-readable form, for clients that check it before sending (the admin page
   * shows a live sum). Published in the JSON Schema as `x-sum`.
   */
  readonly sum?: InvariantSum;
}

/** The object's number fields must add up to `equals`, within `tolerance`. */
export interface InvariantSum {
  readonly equals: number;
  readonly tolerance: number;
}

/** How a field holds its value. */
export type ConfigFieldKind =
  | { readonly kind: 'value' }
  | { readonly kind: 'nested'; readonly type: () => ConfigClass; readonly nullable: boolean }
  | { readonly kind: 'map'; readonly type: () => ConfigClass; readonly maxEntries: number };

/** What the decorators below record about one field. */
export interface ConfigFieldAnnotation {
  readonly description?: string;
  readonly secret?: boolean;
  readonly shape?: ConfigFieldKind;
}

/** Longest accepted secret value, in characters (Unicode code points). */
export const MAX_SECRET_LENGTH = 4096;

// Keyed by prototype (what property decorators receive), so that subclasses inherit through the prototype chain.
const fieldAnnotations = new WeakMap<object, Map<string, ConfigFieldAnnotation>>();
const invariantsByPrototype = new WeakMap<object, ConfigInvariant<object>[]>();

/** Human description of a field, published in the JSON Schema; every configuration field needs one. */
export function Describe(description: string): PropertyDecorator {
  return (target, key) => annotate(target, key, { description });
}

/** Marks a secret: never stored with the plain configuration, optional, a string of at most 4096 characters. */
export function Secret(): PropertyDecorator {
  return (target, key) => {
    annotate(target, key, { secret: true });
    ValidateIf((_object: unknown, value: unknown) => value !== undefined)(target, key);
    IsString()(target, key);
    MaxCodePoints(MAX_SECRET_LENGTH)(target, key);
  };
}

/** A nested configuration object of class `type()`; with `nullable`, `null` is accepted too. */
export function NestedConfig(
  type: () => ConfigClass,
  options: { readonly nullable?: boolean } = {},
): PropertyDecorator {
  const nullable = options.nullable ?? false;
  return (target, key) => {
    annotate(target, key, { shape: { kind: 'nested', type, nullable } });
    if (nullable) {
      ValidateIf((_object: unknown, value: unknown) => value !== null)(target, key);
    }
    ValidateNested()(target, key);
    Type(type)(target, key);
  };
}

/** A JSON object mapping free-form keys to objects of class `type()`, with at most `maxEntries` entries. */
export function ConfigMap(
  type: () => ConfigClass,
  options: { readonly maxEntries: number },
): PropertyDecorator {
  return (target, key) => {
    annotate(target, key, { shape: { kind: 'map', type, maxEntries: options.maxEntries } });
    // Entries are validated by validateConfig; this keeps the field known to class-validator's whitelist.
    IsObject()(target, key);
  };
}

/** Adds a cross-field rule to a configuration class. */
export function Invariant<T extends object>(
  rule: ConfigInvariant<T>,
): (target: ConfigClass<T>) => void {
  return (target) => {
    const proto = prototypeOf(target);
    const rules = invariantsByPrototype.get(proto) ?? [];
    // The rule only ever receives instances of the class it decorates.
    rules.push(rule as unknown as ConfigInvariant<object>);
    invariantsByPrototype.set(proto, rules);
  };
}

/** What the decorators recorded for `key` on `type` or one of its base classes. */
export function fieldAnnotation(type: ConfigClass, key: string): ConfigFieldAnnotation | undefined {
  for (let proto = prototypeOf(type); proto !== Object.prototype;) {
    const found = fieldAnnotations.get(proto)?.get(key);
    if (found) {
      return found;
    }
    const parent: unknown = Object.getPrototypeOf(proto);
    if (typeof parent !== 'object' || parent === null) {
      break;
    }
    proto = parent;
  }
  return undefined;
}

/** The cross-field rules of `type` and its base classes, base classes first. */
export function invariantsOf(type: ConfigClass): ConfigInvariant<object>[] {
  const chain: object[] = [];
  for (let proto: unknown = prototypeOf(type); isObject(proto) && proto !== Object.prototype;) {
    chain.unshift(proto);
    proto = Object.getPrototypeOf(proto);
  }
  return chain.flatMap((proto) => invariantsByPrototype.get(proto) ?? []);
}

function annotate(target: object, key: string | symbol, patch: ConfigFieldAnnotation): void {
  if (typeof key !== 'string') {
    throw new TypeError('configuration fields must have string names');
  }
  const fields = fieldAnnotations.get(target) ?? new Map<string, ConfigFieldAnnotation>();
  fields.set(key, { ...fields.get(key), ...patch });
  fieldAnnotations.set(target, fields);
}

function prototypeOf(type: ConfigClass): object {
  const proto: unknown = type.prototype;
  if (!isObject(proto)) {
    throw new TypeError(`${type.name} is not a class`);
  }
  return proto;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
