// Test support for every app's tests, the bench and the chaos harness (never built, never
// imported by what ships): one place for each piece of test plumbing.
export * from './browser/browser';
export * from './envelopes/envelopes';
export * from './fixtures/billing-worker';
export * from './logs/captured-logs';
export * from './manager/api-call';
export * from './manager/in-process-manager';
export * from './manager/manager-api';
export * from './manager/manager-env';
export * from './mqtt/aedes-broker';
export * from './mqtt/mosquitto';
export * from './mqtt/mqtt-probe';
export * from './mqtt/production-mosquitto';
export * from './net/ports';
export * from './net/tcp-gate';
export * from './repo-root';
export * from './postgres/temp-postgres';
export * from './waiting/change-signal';
export * from './waiting/polling';
export * from './worker/worker-process';
export * from './worker/worker-stack';
