/** Injection token of the worker's settings. */
export const WORKER_SETTINGS = Symbol('WORKER_SETTINGS');
