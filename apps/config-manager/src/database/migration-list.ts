import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';

/** Every migration, oldest first; they run at start-up. */
export const MIGRATIONS = [InitialSchema1763769600000];
