import {
  type InProcessManager,
  type InProcessManagerOptions,
  type ManagerBoot,
  startInProcessManager,
} from '@app/testing';
import { createApp } from '../../src/create-app';
import { loadSettings, type Settings } from '../../src/settings/settings';

/** config-manager's boot, as main.ts runs it. */
export const CONFIG_MANAGER: ManagerBoot<Settings> = { loadSettings, createApp };

/** A running config-manager of the test's own (see InProcessManager), with its settings typed. */
export type TestManager = InProcessManager<Settings>;

/** Starts config-manager exactly as main.ts does, but in-process and on a random port. */
export function startManager(options: InProcessManagerOptions<Settings>): Promise<TestManager> {
  return startInProcessManager(CONFIG_MANAGER, options);
}
