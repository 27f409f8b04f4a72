/**
 * Largest config envelope a worker reads (design, worker rule 0: `oversized`, checked before
 * anything is parsed). The manager never produces one this large: its REST body limit is
 * 100 kB, and the base64 payload plus a few sealed secrets stays well below 256 KiB.
 */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

/**
 * What an MQTT PUBLISH adds around its payload: the fixed header (1 type byte and up to 4
 * remaining-length bytes), the 2-byte topic length and the topic (`system/config/<service>`
 * is at most 77 bytes; the rest is left for MQTT_TOPIC_PREFIX), the 2-byte packet id, and the
 * few bytes of MQTT 5 properties a broker may add.
 */
export const MQTT_PACKET_HEADROOM_BYTES = 4 * 1024;

/**
 * Largest MQTT packet, fixed header included (the way MQTT 5's Maximum Packet Size counts), that
 * brokers accept and clients read: a maximal envelope always fits, and anything larger is refused
 * before it is buffered (mosquitto's `max_packet_size`, the embedded broker's and the clients'
 * packet size guards). Several MiB of junk retained on a config topic would otherwise be held
 * by every subscriber and downloaded again on every reconnect. (mosquitto 2.0 counts only the type
 * byte and the remaining length, so it lets a packet up to 3 bytes longer through: harmless.)
 */
export const MAX_MQTT_PACKET_BYTES = MAX_ENVELOPE_BYTES + MQTT_PACKET_HEADROOM_BYTES;
