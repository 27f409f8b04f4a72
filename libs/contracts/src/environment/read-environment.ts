import { DevKeysFile } from './dev-keys-file';
import {
  type EnvFieldContext,
  type EnvFieldSpec,
  envFieldsOf,
  type EnvironmentVariables,
  type EnvValueSource,
} from './env-fields';
import { EnvironmentError } from './environment.error';
import type { NodeEnv } from './node-env';

/** Development keys a reading took from DATA_DIR/dev-keys.json, for the program's warning. */
export interface DevKeysUse {
  readonly path: string;
  /** Variables whose value came from the file, in declaration order. */
  readonly variables: readonly string[];
  /** Entries generated into the file by this reading. */
  readonly generated: readonly string[];
}

/** The outcome of reading an environment class. */
export interface EnvironmentReading<T> {
  /** The environment object: every field parsed, or its default where a value was refused. */
  readonly values: T;
  /** Every problem, in declaration order, each naming its variable. */
  readonly problems: readonly string[];
  /** Set when a variable came from (or generated into) DATA_DIR/dev-keys.json. */
  readonly devKeys?: DevKeysUse;
}

type EnvClass<T> = new () => T;

/**
 * Reads `env` into an instance of an environment class (or into `target` itself, when given an
 * instance carrying what the code knows, such as its service), collecting every problem. Never
 * throws for a bad value and writes nothing: see readEnvironment().
 */
export function parseEnvironment<T extends object>(
  target: EnvClass<T> | T,
  env: EnvironmentVariables,
): EnvironmentReading<T> {
  return read(target, env).reading;
}

/**
 * Reads `env` into an environment class once, at boot: throws one EnvironmentError naming every
 * bad variable, or saves any development key it generated and returns the typed values.
 */
export function readEnvironment<T extends object>(
  target: EnvClass<T> | T,
  env: EnvironmentVariables,
): EnvironmentReading<T> {
  const { reading, devKeysFile } = read(target, env);
  if (reading.problems.length > 0) {
    throw new EnvironmentError(reading.problems);
  }
  devKeysFile?.save();
  return reading;
}

function read<T extends object>(
  target: EnvClass<T> | T,
  env: EnvironmentVariables,
): { reading: EnvironmentReading<T>; devKeysFile?: DevKeysFile } {
  const values = typeof target === 'function' ? new target() : target;
  return new EnvironmentReader(values, env).read();
}

class EnvironmentReader<T extends object> {
  private readonly problems: string[] = [];
  private readonly sources = new Map<string, EnvValueSource>();
  private readonly devKeyVariables: string[] = [];
  private nodeEnv: NodeEnv = 'development';
  private devKeysDirectory?: { path: string; generate: boolean };
  private devKeysFile?: DevKeysFile;
  private reportedUnreadable = false;

  constructor(
    private readonly values: T,
    private readonly env: EnvironmentVariables,
  ) {}

  read(): { reading: EnvironmentReading<T>; devKeysFile?: DevKeysFile } {
    for (const field of envFieldsOf(this.values.constructor)) {
      this.readField(field);
    }
    const file = this.devKeysFile;
    if (file === undefined || (this.devKeyVariables.length === 0 && file.generated.length === 0)) {
      return { reading: { values: this.values, problems: this.problems } };
    }
    const devKeys = {
      path: file.path,
      variables: this.devKeyVariables,
      generated: [...file.generated],
    };
    return {
      reading: { values: this.values, problems: this.problems, devKeys },
      devKeysFile: file,
    };
  }

  private readField(field: EnvFieldSpec): void {
    const record = this.values as Record<string, unknown>;
    let reported = false;
    const ctx: EnvFieldContext = {
      name: field.name,
      values: this.values,
      nodeEnv: this.nodeEnv,
      production: this.nodeEnv === 'production',
      sourceOf: (name) => this.sources.get(name) ?? 'unset',
      problem: (message) => {
        reported = true;
        this.problems.push(message);
      },
    };
    if (field.readIf !== undefined && !field.readIf(ctx)) {
      this.sources.set(field.name, record[field.name] === undefined ? 'unset' : 'default');
      return;
    }

    let source: EnvValueSource = 'env';
    let raw = this.env[field.name];
    if (raw !== undefined && field.trim) raw = raw.trim();
    if (raw === '') raw = undefined;
    if (raw === undefined && field.devKey !== undefined) {
      const keys = this.devKeys(ctx);
      raw = keys === undefined ? undefined : field.devKey(keys, ctx);
      source = 'dev-keys';
    }
    if (raw === undefined && field.defaultRaw !== undefined) {
      raw = field.defaultRaw(ctx);
      source = 'default';
    }

    if (raw === undefined) {
      this.sources.set(field.name, record[field.name] === undefined ? 'unset' : 'default');
      if (record[field.name] === undefined) {
        const requirement = field.requirements.find((r) => r.when(ctx));
        if (requirement !== undefined && !reported) ctx.problem(requirement.message());
      }
    } else {
      const value = field.parse === undefined ? raw : field.parse(raw, ctx);
      if (value !== undefined) {
        record[field.name] = value;
      } else if (source === 'env' && field.defaultRaw !== undefined) {
        // A refused value leaves the default in place, so a lenient reader (the boot logger)
        // still gets a usable object; the problem is reported all the same.
        const fallback = field.defaultRaw(ctx);
        const parsed = fallback === undefined ? undefined : this.quietly(field, fallback, ctx);
        if (parsed !== undefined) record[field.name] = parsed;
      }
      this.sources.set(field.name, source);
      if (source === 'dev-keys' && value !== undefined) this.devKeyVariables.push(field.name);
    }

    if (!reported && record[field.name] !== undefined) {
      for (const check of field.checks) {
        const problem = check(record[field.name], ctx);
        if (problem !== undefined) ctx.problem(problem);
      }
    }
    if (field.nodeEnv) {
      this.nodeEnv = record[field.name] as NodeEnv;
    }
    if (field.devKeysDirectory !== undefined && typeof record[field.name] === 'string') {
      this.devKeysDirectory = {
        path: record[field.name] as string,
        generate: field.devKeysDirectory.generate,
      };
    }
  }

  /** The development key file, when one may be used: outside production, under DATA_DIR. */
  private devKeys(ctx: EnvFieldContext): DevKeysFile | undefined {
    if (ctx.production || this.devKeysDirectory === undefined) return undefined;
    this.devKeysFile ??= DevKeysFile.open(this.devKeysDirectory.path);
    const file = this.devKeysFile;
    if (!file.exists && !this.devKeysDirectory.generate) return undefined;
    if (!file.readable) {
      // A broken file is neither used nor overwritten; say so once, whichever field needed it.
      if (!this.reportedUnreadable) this.problems.push(file.unreadableProblem());
      this.reportedUnreadable = true;
      return undefined;
    }
    return file;
  }

  private quietly(field: EnvFieldSpec, raw: string, ctx: EnvFieldContext): unknown {
    if (field.parse === undefined) return raw;
    return field.parse(raw, { ...ctx, problem: () => undefined });
  }
}
