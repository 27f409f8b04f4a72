// `npm start`: config-manager and one dedup-worker together on the embedded defaults.
// The manager starts first (it generates the development keys into DATA_DIR and runs the
// embedded broker); the worker starts once the manager answers, reading the same DATA_DIR.
// Ctrl-C stops both; if either exits, the other is stopped too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const env = process.env;
const port = env.PORT ?? '8080';
const dataDir = resolve(env.DATA_DIR ?? './data');
const shared = { ...env, DATA_DIR: dataDir };
const children = new Map();
let stopping = false;

function run(name, script, extraEnv) {
  const child = spawn(process.execPath, [join(root, script)], {
    env: { ...shared, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
      stop(code ?? 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  children.set(name, child);
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10000).unref();
}

async function waitForManager(timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

run('manager', 'dist/bundle/config-manager.js', {});
if (!(await waitForManager())) {
  console.error('[start] config-manager did not become healthy; see its log above');
  stop(1);
} else {
  const mqttUrl = env.MQTT_URL ?? `mqtt://127.0.0.1:${env.MQTT_EMBEDDED_PORT ?? '1884'}`;
  if (!existsSync(join(dataDir, 'dev-keys.json')) && !env.CONFIG_TRUSTED_KEYS) {
    console.error(
      '[start] no development keys in DATA_DIR and no CONFIG_TRUSTED_KEYS: the worker cannot verify configs',
    );
  }
  run('worker', 'dist/bundle/dedup-worker.js', {
    MQTT_URL: mqttUrl,
    INSTANCE_ID: env.INSTANCE_ID ?? 'local-1',
  });
  const token = join(dataDir, 'admin-token');
  console.log(
    `[start] config-manager: http://localhost:${port}/api (docs /api/docs)` +
      (existsSync(token) ? `, admin token in ${token}` : '') +
      '. Ctrl-C stops both.',
  );
}
