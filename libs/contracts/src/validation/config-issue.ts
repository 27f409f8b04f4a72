/** One problem with a configuration, at a dotted field path (`''` for the document itself). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}
