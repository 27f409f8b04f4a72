import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CryptoError, decodeBase64Key, type KeyListEntry, parseKeyList } from '@app/crypto';
import {
  type EnvCheckRule,
  type EnvDevKeySource,
  type EnvFieldContext,
  envFieldSpec,
  type EnvParser,
} from './env-fields';
import { parseNodeEnv } from './node-env';

// The environment toolkit of every program (config-manager, dedup-worker, the worker SDK): one
// class per program lists its variables as properties named after them, in the order problems
// are reported. A static default is the property's initializer (`PORT = 8080`); a computed one
// is @EnvDefault, parsed like a set value and free to use the variables above it (DATA_DIR).
// readEnvironment() reads the class once at boot and throws one EnvironmentError naming every
// bad variable; development keys come from DATA_DIR/dev-keys.json (DevKeysFile), never in
// production. Not class-validator: each variable is parsed from text once, with a message that
// names it (and its refused text unless it is a secret), and one variable may report several
// problems (API_TOKENS entries), which class-validator's one message per constraint does not fit.

type Decorator = (prototype: object, property: string | symbol) => void;

function parser(parse: EnvParser<unknown>): Decorator {
  return (prototype, property) => {
    const spec = envFieldSpec(prototype, property);
    if (spec.parse !== undefined) {
      throw new Error(`${spec.name} has two value decorators (@EnvInteger, @EnvUrl, …): keep one`);
    }
    spec.parse = parse;
  };
}

/** What a CryptoError says: it names the variable and never the key. Anything else is a bug. */
function cryptoProblem(error: unknown): string {
  if (error instanceof CryptoError) return error.message;
  throw error;
}

/**
 * Text, trimmed unless `trim: false` (passwords); a blank value is unset. With `pattern`, a value
 * that does not match is refused with `message` (default: "<NAME> must match <pattern>").
 */
export function EnvString(
  options: { pattern?: RegExp; message?: string; trim?: boolean } = {},
): Decorator {
  return (prototype, property) => {
    parser((raw, ctx) => {
      if (options.pattern !== undefined && !options.pattern.test(raw)) {
        ctx.problem(options.message ?? `${ctx.name} must match ${String(options.pattern)}`);
        return undefined;
      }
      return raw;
    })(prototype, property);
    envFieldSpec(prototype, property).trim = options.trim ?? true;
  };
}

/** A decimal integer from `min` to `max` (no exponents, hex or fractions). */
export function EnvInteger(range: { min: number; max: number }): Decorator {
  return parser((raw, ctx) => {
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
      ctx.problem(
        `${ctx.name} must be an integer from ${range.min} to ${range.max} (got "${raw}")`,
      );
      return undefined;
    }
    return value;
  });
}

/** One of `values` (exactly, or in any case with `ignoreCase`, giving the listed spelling). */
export function EnvEnum(
  values: readonly string[],
  options: { ignoreCase?: boolean } = {},
): Decorator {
  return parser((raw, ctx) => {
    const found = options.ignoreCase
      ? values.find((value) => value.toLowerCase() === raw.toLowerCase())
      : values.find((value) => value === raw);
    if (found === undefined) {
      ctx.problem(
        `${ctx.name} must be one of ${values.join(', ')}` +
          (options.ignoreCase ? ` (in any case; got ${JSON.stringify(raw)})` : ''),
      );
    }
    return found;
  });
}

/** `true`/`false` or `1`/`0`, in any case. */
export function EnvBoolean(): Decorator {
  return parser((raw, ctx) => {
    const value = raw.toLowerCase();
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    ctx.problem(`${ctx.name} must be true or false (or 1 or 0; got "${raw}")`);
    return undefined;
  });
}

/**
 * A URL with one of `protocols` (without `:`); refused as "<NAME> must be <description> URL",
 * e.g. `description: 'an http(s)'`.
 */
export function EnvUrl(options: { protocols: readonly string[]; description: string }): Decorator {
  const shape = new RegExp(`^(${options.protocols.join('|')})://\\S+$`, 'i');
  return parser((raw, ctx) => {
    let valid = shape.test(raw);
    try {
      valid = valid && new URL(raw).protocol !== '';
    } catch {
      valid = false;
    }
    if (!valid) {
      ctx.problem(`${ctx.name} must be ${options.description} URL`);
      return undefined;
    }
    return raw;
  });
}

/**
 * A file or directory path, made absolute against the working directory at boot. With
 * `mustExist`, a path that does not exist is refused ("<NAME> <path> does not exist").
 */
export function EnvPath(options: { mustExist?: boolean } = {}): Decorator {
  return parser((raw, ctx) => {
    const path = isAbsolute(raw) ? raw : resolve(raw);
    if (options.mustExist && !existsSync(path)) {
      ctx.problem(`${ctx.name} ${raw} does not exist`);
      return undefined;
    }
    return path;
  });
}

/** A standard-base64 key of exactly `bytes` bytes, as a Buffer; problems never show the value. */
export function EnvBase64Key(options: { bytes: number }): Decorator {
  return parser((raw, ctx) => {
    try {
      return decodeBase64Key(raw, options.bytes, ctx.name);
    } catch (error) {
      ctx.problem(cryptoProblem(error));
      return undefined;
    }
  });
}

/**
 * `id:base64Key,…` with keys of `bytes` bytes, as KeyListEntry[] (possibly empty; with
 * `nonEmpty`, an empty list is refused with that message). Problems never show a key.
 */
export function EnvKeyList(options: { bytes: number; nonEmpty?: string }): Decorator {
  return parser((raw, ctx): KeyListEntry[] | undefined => {
    try {
      const entries = parseKeyList(raw, options.bytes, ctx.name);
      if (entries.length === 0 && options.nonEmpty !== undefined) {
        ctx.problem(options.nonEmpty);
        return undefined;
      }
      return entries;
    } catch (error) {
      ctx.problem(cryptoProblem(error));
      return undefined;
    }
  });
}

/** A parser of the program's own (a JSON list, a database URL); it reports through ctx.problem(). */
export function EnvParse<V, T = object>(parse: EnvParser<V, T>): Decorator {
  return parser(parse as EnvParser<unknown>);
}

/**
 * NODE_ENV: production, development or test in any case; unset is development. An unknown value
 * is a problem and reads as production, so every rule below fails closed (no development keys).
 */
export function EnvNodeEnv(): Decorator {
  return (prototype, property) => {
    parser((raw, ctx) => {
      const problems: string[] = [];
      const value = parseNodeEnv(raw, problems);
      problems.forEach((problem) => ctx.problem(problem));
      return value;
    })(prototype, property);
    envFieldSpec(prototype, property).nodeEnv = true;
  };
}

/**
 * DATA_DIR: a path (see @EnvPath) where DATA_DIR/dev-keys.json is read outside production. With
 * `generate`, fields may create the file (config-manager); without, a missing file gives nothing.
 */
export function EnvDevKeysDirectory(options: { generate: boolean }): Decorator {
  return (prototype, property) => {
    EnvPath()(prototype, property);
    envFieldSpec(prototype, property).devKeysDirectory = { generate: options.generate };
  };
}

/**
 * Outside production, an unset variable takes its value from DATA_DIR/dev-keys.json: `source`
 * returns the text (read, derived or generated), parsed like a set value.
 */
export function EnvDevKey<T = object>(source: EnvDevKeySource<T>): Decorator {
  return (prototype, property) => {
    envFieldSpec(prototype, property).devKey = source as EnvDevKeySource;
  };
}

/** The text an unset variable defaults to, parsed like a set value (derived from earlier fields). */
export function EnvDefault<T = object>(
  fallback: string | ((ctx: EnvFieldContext<T>) => string | undefined),
): Decorator {
  return (prototype, property) => {
    envFieldSpec(prototype, property).defaultRaw =
      typeof fallback === 'string'
        ? () => fallback
        : (fallback as (ctx: EnvFieldContext) => string);
  };
}

/** Text of a problem: a string, or a function for text known only at boot (the registered services). */
export type EnvMessage = string | (() => string);

/** An unset variable is a problem, with `message`. */
export function EnvRequired(message: EnvMessage): Decorator {
  return EnvRequiredIf(() => true, message);
}

/** With NODE_ENV=production (or an unknown NODE_ENV), an unset variable is a problem. */
export function EnvRequiredInProduction(message: EnvMessage): Decorator {
  return EnvRequiredIf((ctx) => ctx.production, message);
}

/** An unset variable is a problem when `when` holds (given the variables above it). */
export function EnvRequiredIf<T = object>(
  when: (ctx: EnvFieldContext<T>) => boolean,
  message: EnvMessage,
): Decorator {
  return (prototype, property) => {
    envFieldSpec(prototype, property).requirements.push({
      when: when as (ctx: EnvFieldContext) => boolean,
      message: typeof message === 'string' ? () => message : message,
    });
  };
}

/** A rule on the parsed value (set, default or dev key), e.g. one that depends on NODE_ENV. */
export function EnvCheck<V, T = object>(check: EnvCheckRule<V, T>): Decorator {
  return (prototype, property) => {
    envFieldSpec(prototype, property).checks.push(check as EnvCheckRule<unknown>);
  };
}

/** The variable is read only when `when` holds; otherwise it is ignored and keeps its default. */
export function EnvIf<T = object>(when: (ctx: EnvFieldContext<T>) => boolean): Decorator {
  return (prototype, property) => {
    envFieldSpec(prototype, property).readIf = when as (ctx: EnvFieldContext) => boolean;
  };
}
