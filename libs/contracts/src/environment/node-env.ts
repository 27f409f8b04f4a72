/** The values NODE_ENV may take (in any case); anything else is refused, never guessed. */
export const NODE_ENVS = ['production', 'development', 'test'] as const;

/** A recognised NODE_ENV. */
export type NodeEnv = (typeof NODE_ENVS)[number];

/**
 * Reads NODE_ENV case-insensitively; unset or blank is `development`. An unknown value adds a
 * problem naming NODE_ENV and the accepted values and reads as `production`, so a caller that
 * goes on collecting its other problems fails closed (no generated or development keys).
 */
export function parseNodeEnv(raw: string | undefined, problems: string[]): NodeEnv {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '') return 'development';
  const known = NODE_ENVS.find((name) => name === value);
  if (known !== undefined) return known;
  problems.push(
    `NODE_ENV must be one of ${NODE_ENVS.join(', ')} (in any case; got ${JSON.stringify(raw)})`,
  );
  return 'production';
}
