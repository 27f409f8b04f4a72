// The config-manager process. Everything it does is in start.ts, which the bundle shares.
import { start } from './start';

void start();
