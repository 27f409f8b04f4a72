import type { DevKeysFile } from './dev-keys-file';
import type { NodeEnv } from './node-env';

/** The variables a program reads: `process.env` at boot, a plain object in tests. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** Where a variable's value came from, for rules that depend on another variable. */
export type EnvValueSource = 'env' | 'dev-keys' | 'default' | 'unset';

/** What a parser, default, rule or dev-key source of one variable sees. */
export interface EnvFieldContext<T = object> {
  /** The variable, e.g. `PORT`. */
  readonly name: string;
  /** The environment object: variables declared above this one hold their final values. */
  readonly values: Readonly<T>;
  /** The NODE_ENV field's value (`development` when the class declares none). */
  readonly nodeEnv: NodeEnv;
  readonly production: boolean;
  /** Where an earlier variable's value came from (`unset` for an unknown name). */
  sourceOf(name: string): EnvValueSource;
  /** Records a problem; it must name the variable and never echo a secret value. */
  problem(message: string): void;
}

/** Turns a variable's (trimmed, non-blank) text into its value; undefined after ctx.problem(). */
export type EnvParser<V, T = object> = (raw: string, ctx: EnvFieldContext<T>) => V | undefined;

/** A value for an unset variable from DATA_DIR/dev-keys.json (development only). */
export type EnvDevKeySource<T = object> = (
  keys: DevKeysFile,
  ctx: EnvFieldContext<T>,
) => string | undefined;

/** A rule on a parsed value: the problem, or undefined when the value is acceptable. */
export type EnvCheckRule<V, T = object> = (value: V, ctx: EnvFieldContext<T>) => string | undefined;

/** How an unset variable is reported, and when. */
interface EnvRequirement {
  readonly when: (ctx: EnvFieldContext) => boolean;
  readonly message: () => string;
}

/** Everything the decorators of one property declared about its variable. */
export interface EnvFieldSpec {
  readonly name: string;
  parse?: EnvParser<unknown>;
  trim: boolean;
  defaultRaw?: (ctx: EnvFieldContext) => string | undefined;
  devKey?: EnvDevKeySource;
  readIf?: (ctx: EnvFieldContext) => boolean;
  requirements: EnvRequirement[];
  checks: EnvCheckRule<unknown>[];
  /** This field is NODE_ENV: its value decides `production` for every field below it. */
  nodeEnv?: true;
  /** This field is DATA_DIR: dev-keys.json is read there; `generate` lets fields create the file. */
  devKeysDirectory?: { generate: boolean };
}

const FIELDS = new WeakMap<object, EnvFieldSpec[]>();

/** The spec of `property` on the class of `prototype`, created (in declaration order) on first use. */
export function envFieldSpec(prototype: object, property: string | symbol): EnvFieldSpec {
  if (typeof property !== 'string') {
    throw new Error('Environment fields are named after their variable: use a string property');
  }
  const owner = prototype.constructor;
  const fields = FIELDS.get(owner) ?? [];
  FIELDS.set(owner, fields);
  let spec = fields.find((field) => field.name === property);
  if (spec === undefined) {
    spec = { name: property, trim: true, requirements: [], checks: [] };
    fields.push(spec);
  }
  return spec;
}

/** The declared fields of an environment class, in declaration order. */
export function envFieldsOf(owner: { name: string }): readonly EnvFieldSpec[] {
  const fields = FIELDS.get(owner);
  if (fields === undefined || fields.length === 0) {
    throw new Error(`${owner.name} declares no environment variables (use the @Env… decorators)`);
  }
  return fields;
}
