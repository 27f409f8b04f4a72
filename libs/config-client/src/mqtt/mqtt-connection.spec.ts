import type { MqttClient } from 'mqtt';
import { publishAcknowledged, safeUrl, withTimeout } from './mqtt-connection';

/** Just enough of an mqtt.js client for publishAcknowledged. */
function clientFactory(connected: boolean, publish: () => Promise<unknown>): MqttClient {
  return { connected, publishAsync: publish } as unknown as MqttClient;
}

describe(publishAcknowledged.name, () => {
  const sut = publishAcknowledged;
  const options = { retain: true, timeoutMs: 50 };

  it('is true once the broker acknowledged, false when not connected, refused or too slow', async () => {
    expect(
      await sut(
        clientFactory(true, () => Promise.resolve()),
        't',
        'x',
        options,
      ),
    ).toBe(true);
    expect(await sut(undefined, 't', 'x', options)).toBe(false);
    expect(
      await sut(
        clientFactory(false, () => Promise.resolve()),
        't',
        'x',
        options,
      ),
    ).toBe(false);
    const errors: string[] = [];
    const refused = clientFactory(true, () => Promise.reject(new Error('not authorised')));
    expect(
      await sut(refused, 't', 'x', { ...options, onError: (e) => errors.push(e.message) }),
    ).toBe(false);
    expect(errors).toEqual(['not authorised']);
    const silent = clientFactory(true, () => new Promise(() => undefined));
    expect(await sut(silent, 't', 'x', options)).toBe(false);
  });
});

describe(withTimeout.name, () => {
  it('gives the value, or false when the time is up first', async () => {
    expect(await withTimeout(Promise.resolve(7), 50)).toBe(7);
    expect(await withTimeout(new Promise(() => undefined), 10)).toBe(false);
  });
});

describe(safeUrl.name, () => {
  it('drops credentials from a broker URL', () => {
    expect(safeUrl('mqtts://user:pa55@broker:8883')).toBe('mqtts://broker:8883');
    expect(safeUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  });
});
