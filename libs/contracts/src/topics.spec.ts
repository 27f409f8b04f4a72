import {
  configTopic,
  healthTopic,
  MANAGER_HEALTH_TOPIC,
  parseConfigTopic,
  parseHealthTopic,
  SERVICE_NAME_PATTERN,
} from '@app/contracts';

describe(configTopic.name, () => {
  it('is system/config/<service>', () => {
    expect(configTopic('dedup-worker')).toBe('system/config/dedup-worker');
  });

  it.each(['Dedup', 'a', 'dedup/worker', 'dedup+', '#', `a${'b'.repeat(63)}`])(
    'refuses the service name %p',
    (name) => {
      expect(() => configTopic(name)).toThrow(RangeError);
    },
  );
});

describe(healthTopic.name, () => {
  it('is system/health/<service>/<instanceId>', () => {
    expect(healthTopic('dedup-worker', 'w-1')).toBe('system/health/dedup-worker/w-1');
  });

  it.each(['', 'w/1', 'w+', 'w#', 'w 1'])('refuses the instance id %p', (instanceId) => {
    expect(() => healthTopic('dedup-worker', instanceId)).toThrow(RangeError);
  });
});

describe('topic parsing', () => {
  it('reads the service of a config topic', () => {
    expect(parseConfigTopic('system/config/dedup-worker')).toEqual({ service: 'dedup-worker' });
    expect(parseConfigTopic('system/config/dedup-worker/x')).toBeUndefined();
    expect(parseConfigTopic('system/health/dedup-worker')).toBeUndefined();
  });

  it('reads the service and instance of a health topic, but not the manager topic', () => {
    expect(parseHealthTopic('system/health/dedup-worker/w-1')).toEqual({
      service: 'dedup-worker',
      instanceId: 'w-1',
    });
    expect(parseHealthTopic(MANAGER_HEALTH_TOPIC)).toBeUndefined();
  });

  it('uses the design service name pattern', () => {
    expect(SERVICE_NAME_PATTERN.source).toBe('^[a-z][a-z0-9-]{1,62}$');
    expect(MANAGER_HEALTH_TOPIC).toBe('system/health/config-manager');
  });
});
