import { Semaphore } from './semaphore';

describe(Semaphore.name, () => {
  it('runs at most `limit` tasks at once and all of them eventually', async () => {
    const sut = new Semaphore(3);
    const total = 10;
    let started = 0;
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    // Each start releases the oldest waiting task once three are open (or all have started),
    // so the semaphore is always pushed to its limit without any timers.
    const task = async (): Promise<void> => {
      started += 1;
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => {
        gates.push(resolve);
        if (gates.length === 3 || started === total) {
          gates.splice(0, started === total ? gates.length : 1).forEach((release) => release());
        }
      });
      running -= 1;
    };

    await Promise.all(Array.from({ length: total }, () => sut.run(task)));

    expect(peak).toBe(3);
  });

  it('frees the slot of a task that throws', async () => {
    const sut = new Semaphore(1);

    await expect(sut.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(sut.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
