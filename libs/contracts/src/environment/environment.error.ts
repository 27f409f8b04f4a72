/**
 * The environment cannot make a program's settings. The message names every bad variable at
 * once ("Invalid environment variables:" and one line per problem); `problems` lists them for
 * programs and tests that check them one by one. Problems never contain a secret value.
 */
export class EnvironmentError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    // One program may read two environment classes (the worker and its SDK): say each once.
    const unique = [...new Set(problems)];
    super(`Invalid environment variables:\n  - ${unique.join('\n  - ')}`);
    this.name = 'EnvironmentError';
    this.problems = unique;
  }
}
