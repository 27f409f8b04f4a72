import { Socket } from 'node:net';

export { freePort } from '../../apps/config-manager/test/support/temp-postgres';

/** Whether something accepts TCP connections on this loopback port right now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
