import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateSigningKeyPair } from '@app/crypto';
import { freePort, WorkerProcess } from '@app/testing';

const PASSWORD = 'mqtt-password-never-logged';

describe('dedup-worker log lines', () => {
  let dir: string;
  let env: Record<string, string>;
  const hmacKey = randomBytes(32).toString('base64');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-logs-'));
    env = {
      DATA_DIR: dir,
      INSTANCE_ID: 'w-logs',
      // Nothing listens there: the worker runs degraded, processes its empty inbox and exits.
      MQTT_URL: `mqtt://127.0.0.1:${await freePort()}`,
      MQTT_USERNAME: 'worker',
      MQTT_PASSWORD: PASSWORD,
      CONFIG_TRUSTED_KEYS: `k:${generateSigningKeyPair().publicKey.toString('base64')}`,
      LKG_HMAC_KEY: hmacKey,
      INITIAL_CONFIG_TIMEOUT_MS: '200',
    };
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function linesOf(extra: Record<string, string>): Promise<string[]> {
    const worker = WorkerProcess.start({ ...env, ...extra }, ['--once']);
    expect(await worker.exit()).toBe(0);
    const text = worker.lines.join('\n');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(hmacKey);
    return worker.lines.filter((line) => line !== '');
  }

  it.each([
    ['NODE_ENV=test (the default there)', { NODE_ENV: 'test' }],
    ['LOG_FORMAT=json', { NODE_ENV: 'development', LOG_FORMAT: 'json' }],
  ])('are JSON lines with %s', async (_, extra) => {
    const lines = await linesOf(extra);

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        app: 'dedup-worker',
        context: 'Bootstrap',
        msg: `--once: no batch files in ${join(dir, 'inbox')}`,
      }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ context: 'ConfigClient' }));
  });

  it.each([
    ['NODE_ENV=development (the default there)', { NODE_ENV: 'development' }],
    ['LOG_FORMAT=pretty', { NODE_ENV: 'production', LOG_FORMAT: 'pretty' }],
  ])('are readable lines with %s', async (_, extra) => {
    const lines = await linesOf(extra);

    expect(lines).toContainEqual(
      `${lines.find((l) => l.includes('--once'))?.slice(0, 12)} LOG     [Bootstrap] --once: no batch files in ${join(dir, 'inbox')}`,
    );
    for (const line of lines.filter((l) => !l.startsWith(' '))) {
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (LOG|WARN|ERROR) +\[\w+\] /);
    }
    expect(lines.join('\n')).toMatch(/WARN {4}\[ConfigClient\] /);
  });
});
