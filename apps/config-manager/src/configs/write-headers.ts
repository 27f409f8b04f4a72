import type { Response } from 'express';
import { versionEtag } from '../common/change-headers';
import type { ChangeResult } from './config-writes.service';

/** ETag (the new current version) or, for a staged write, X-Staged-Version; X-Config-Published. */
export function setWriteHeaders(res: Response, result: ChangeResult): void {
  if (result.staged) res.setHeader('X-Staged-Version', String(result.state.version));
  else res.setHeader('ETag', versionEtag(result.state.version));
  res.setHeader('X-Config-Published', String(result.published));
}
