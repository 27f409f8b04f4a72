import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { configTopic, healthTopic, type MatchingConfig } from '@app/contracts';
import { CapturedLogger, MqttProbe, type TestBroker } from '@app/testing';
import { buildEnvelope, createTestKeys, trustedKeysOf } from '../test/support/envelope-factory';
import { startTestBroker } from '../test/support/test-broker';
import { ConfigClient } from './config-client';
import type { ConfigClientOptions } from './config-client.options';
import { ConfigClientModule } from './config-client.module';
import type { InstanceStatus } from '@app/contracts';

// A worker feature that injects the client the way apps will: by its class.
@Injectable()
class RunLoop {
  constructor(readonly client: ConfigClient<MatchingConfig>) {}
}

@Module({ providers: [RunLoop] })
class RunLoopModule {}

describe(ConfigClientModule.name, () => {
  let broker: TestBroker;
  let probe: MqttProbe;
  let dir: string;

  beforeEach(async () => {
    broker = await startTestBroker();
    probe = await MqttProbe.connect(broker.url, [healthTopic('dedup-worker', 'w-nest')]);
    dir = mkdtempSync(join(tmpdir(), 'config-client-module-'));
  });

  afterEach(async () => {
    await probe.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the client at bootstrap, injects it by class, and stops it (offline) at shutdown', async () => {
    const keys = createTestKeys();
    await probe.publish(configTopic('dedup-worker'), buildEnvelope(keys, { version: 3 }));
    const options = (): ConfigClientOptions => ({
      service: 'dedup-worker',
      instanceId: 'w-nest',
      mqttUrl: broker.url,
      trustedKeys: trustedKeysOf(keys),
      secretKey: keys.box.secretKey,
      lkgPath: join(dir, 'w.lkg.json'),
      lkgHmacKey: randomBytes(32),
      logger: new CapturedLogger(),
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigClientModule.forRoot(options), RunLoopModule],
    }).compile();
    const app: INestApplicationContext = await moduleRef.init();

    const sut = app.get(RunLoop).client;
    expect(sut).toBe(app.get(ConfigClient));
    expect(sut.beginRun().version).toBe(3);

    await app.close();

    const offline = await probe.waitFor(
      (m) => (JSON.parse(m.payload.toString()) as InstanceStatus).status === 'offline',
      'offline status after shutdown',
    );
    expect(JSON.parse(offline.payload.toString())).toMatchObject({ appliedVersion: 3 });
  });
});
