import { Mosquitto } from '@app/testing';

/** A mosquitto of the bench's own, configured like production (TCP_NODELAY, no persistence). */
export function startBenchMosquitto(): Promise<Mosquitto> {
  return Mosquitto.start({
    extraConfig: ['set_tcp_nodelay true', 'max_queued_messages 10000'],
  });
}
