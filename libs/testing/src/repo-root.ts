import { resolve } from 'node:path';

/** The repository root (the tests, the bench and the chaos harness run from source). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
