// The SDK without its Nest module: the package's main entry (@config-centre/config-client), so
// a plain Node worker needs no Nest. index.ts adds the module for the monorepo; the package
// exports it as @config-centre/config-client/nest.
export * from './config-client';
export * from './config-client.error';
export type {
  ConfigAcceptedEvent,
  ConfigArchivedEvent,
  ConfigClientEvents,
  ConfigClientListener,
  ConfigFreshnessEvent,
  ConfigPendingEvent,
  ConfigRejectedEvent,
  SchemaAcceptedEvent,
  SchemaRejectedEvent,
} from './config-client.events';
export * from './config-client.logger';
export * from './config-client.options';
export * from './config-client.settings';
export {
  readSignedEnvelope,
  type EnvelopeReadFailure,
  type EnvelopeReading,
} from './envelope-reader';
export * from './envelope-verifier';
export * from './instance-labels';
export * from './last-known-good';
export {
  MAX_SIGNED_SCHEMAS,
  type SchemaVerdict,
  type SignedSchema,
  type SignedSchemaLookup,
} from './signed-schemas';
export * from './mqtt/mqtt-packet.error';
export { type DroppedPublish, PacketSizeFilter } from './mqtt/packet-size-filter';
export type { PacketSizeFilterOptions } from './mqtt/packet-size-filter';
export * from './mqtt/mqtt-connection';
export * from './mqtt/packet-size-guard';
