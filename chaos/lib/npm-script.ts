import { execFile } from 'node:child_process';
import { ROOT } from './paths';

const SCRIPT_TIMEOUT_MS = 60_000;

/** How an operator CLI ended. */
export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm run <script> -- <args>` from the repository root as an operator does (the backup and
 * restore CLIs), with `env` on top of the harness's environment; resolves however it ends.
 */
export function npmScript(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<ScriptResult> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: SCRIPT_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}
