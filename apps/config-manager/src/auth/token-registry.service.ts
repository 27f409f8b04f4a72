import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constantTimeEqual, randomToken, sha256 } from '@app/crypto';
import { ensurePrivateDirectory } from '../common/private-files';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { Principal, effectiveRoles } from './roles';

/** File (mode 0600) the generated admin token is written to, for the operator to read. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** File holding the SHA-256 of the generated token: what the manager keeps. */
export const ADMIN_TOKEN_HASH_FILE = 'admin-token.sha256';

interface KnownToken {
  name: string;
  roles: readonly string[];
  sha256: Buffer;
}

/**
 * Knows the SHA-256 of every accepted token (never a token itself) and maps a presented bearer
 * token to its principal. With API_TOKENS unset it generates one admin token at first start.
 */
@Injectable()
export class TokenRegistryService implements OnModuleInit {
  private readonly logger = new Logger(TokenRegistryService.name);
  private tokens: KnownToken[] = [];

  constructor(@Inject(SETTINGS) private readonly settings: Settings) {}

  onModuleInit(): void {
    this.tokens = this.settings.apiTokens.map((t) => ({
      name: t.name,
      roles: t.roles,
      sha256: t.tokenSha256,
    }));
    if (this.tokens.length === 0) {
      this.tokens = [{ name: 'admin', roles: ['admin'], sha256: this.generatedAdminTokenHash() }];
    }
  }

  /** The principal for a presented token, or undefined. Compares every hash in constant time. */
  authenticate(token: string): Principal | undefined {
    const presented = sha256(token);
    let match: KnownToken | undefined;
    for (const known of this.tokens) {
      if (constantTimeEqual(presented, known.sha256)) match = known;
    }
    return match ? { name: match.name, roles: effectiveRoles(match.roles) } : undefined;
  }

  private generatedAdminTokenHash(): Buffer {
    const dir = this.settings.dataDir;
    const hashFile = join(dir, ADMIN_TOKEN_HASH_FILE);
    if (existsSync(hashFile)) {
      return Buffer.from(readFileSync(hashFile, 'utf8').trim(), 'hex');
    }
    const token = randomToken(32);
    ensurePrivateDirectory(dir);
    writeFileSync(join(dir, ADMIN_TOKEN_FILE), `${token}\n`, { mode: 0o600 });
    chmodSync(join(dir, ADMIN_TOKEN_FILE), 0o600);
    writeFileSync(hashFile, `${sha256(token).toString('hex')}\n`, { mode: 0o600 });
    this.logger.warn(
      `API_TOKENS is not set: generated an admin token and wrote it to ${join(dir, ADMIN_TOKEN_FILE)} ` +
        '(mode 0600). Send it as "Authorization: Bearer <token>"; configure API_TOKENS for real deployments.',
    );
    return sha256(token);
  }
}
