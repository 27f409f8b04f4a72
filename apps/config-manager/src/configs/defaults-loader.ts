import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import {
  ConfigIssue,
  ServiceDefinition,
  deepMerge,
  defaultConfig,
  validateConfig,
} from '@app/contracts';

/** A defaults file that cannot be used; the message names the file and every bad field. */
export class DefaultsFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Invalid defaults file ${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DefaultsFileError';
  }
}

/** The initial configuration of a service and the files it was layered from. */
export interface LayeredDefaults {
  config: Record<string, unknown>;
  sources: string[];
}

/**
 * Builds a service's initial configuration: schema defaults, then `<dir>/<service>.yaml`, then
 * `<dir>/<service>.<appEnv>.yaml`, each optional. Every layer is validated as a whole so a bad
 * file fails start-up naming the file and the field.
 */
export function loadLayeredDefaults(
  definition: ServiceDefinition,
  dir: string,
  appEnv: string,
): LayeredDefaults {
  let config = defaultConfig(definition);
  const sources = ['schema defaults'];
  for (const file of [
    join(dir, `${definition.name}.yaml`),
    join(dir, `${definition.name}.${appEnv}.yaml`),
  ]) {
    if (!existsSync(file)) continue;
    const layer = readLayer(file);
    if (layer === undefined) continue;
    const result = validateConfig(
      definition,
      deepMerge(config, layer, { mapPaths: definition.mapPaths }),
    );
    if (!result.ok) {
      throw new DefaultsFileError(file, result.issues.map(formatIssue));
    }
    config = result.config;
    sources.push(file);
  }
  return { config, sources };
}

function readLayer(file: string): Record<string, unknown> | undefined {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new DefaultsFileError(
      file,
      doc.errors.map(
        (e) => `YAML syntax at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`,
      ),
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DefaultsFileError(file, ['the top level must be a mapping of config sections']);
  }
  return value as Record<string, unknown>;
}

function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}
