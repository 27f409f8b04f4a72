import type { ManagerBoot } from '@app/testing';
// The worker's end-to-end tests run the real config-manager in this process, as its main.ts
// boots it: its two boot functions are all they take from that app.
import { createApp } from '../../../config-manager/src/create-app';
import { loadSettings, type Settings } from '../../../config-manager/src/settings/settings';

/** config-manager's boot, for startWorkerStack. */
export const CONFIG_MANAGER: ManagerBoot<Settings> = { loadSettings, createApp };
