import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_KEYS_FILE, DevKeysFile } from '@app/contracts';

describe(DevKeysFile.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dev-keys-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a missing file as empty, and creates it (and DATA_DIR, 0700) only when a key is generated', () => {
    const dataDir = join(dir, 'nested', 'data');
    const sut = DevKeysFile.open(dataDir);

    expect(sut).toMatchObject({
      path: join(dataDir, DEV_KEYS_FILE),
      exists: false,
      readable: true,
    });
    sut.save();
    expect(() => statSync(dataDir)).toThrow();

    expect(sut.getOrGenerate('K', () => 'v1')).toBe('v1');
    expect(sut.getOrGenerate('K', () => 'v2')).toBe('v1');
    sut.save();

    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(sut.path).mode & 0o777).toBe(0o600);
    expect(sut.generated).toEqual(['K']);
    expect(JSON.parse(readFileSync(sut.path, 'utf8'))).toEqual({ K: 'v1' });
  });

  it('keeps the other entries when it adds one, and leaves no temporary file behind', () => {
    const path = join(dir, DEV_KEYS_FILE);
    writeFileSync(path, JSON.stringify({ A: ' a ', N: 5, BLANK: ' ' }), { mode: 0o600 });
    const sut = DevKeysFile.open(dir);

    expect([sut.get('A'), sut.get('N'), sut.get('BLANK'), sut.get('toString')]).toEqual([
      'a',
      undefined,
      undefined,
      undefined,
    ]);
    sut.getOrGenerate('B', () => 'b');
    sut.save();

    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ A: ' a ', N: 5, BLANK: ' ', B: 'b' });
    expect(readdirSync(dir)).toEqual([DEV_KEYS_FILE]);
  });

  it('never overwrites a file that is not a JSON object', () => {
    const path = join(dir, DEV_KEYS_FILE);
    writeFileSync(path, '[1, 2]');
    const sut = DevKeysFile.open(dir);

    expect(sut).toMatchObject({ exists: true, readable: false });
    sut.getOrGenerate('K', () => 'v');
    sut.save();

    expect(readFileSync(path, 'utf8')).toBe('[1, 2]');
    expect(sut.unreadableProblem()).toBe(
      `${path} (development keys) is not a JSON object; delete it and restart config-manager to regenerate it`,
    );
  });
});
