// The monorepo's barrel: the SDK (sdk.ts, the package's main entry) and its Nest module (the
// package's `/nest` entry, kept apart so that @nestjs/common stays an optional peer there).
export * from './sdk';
export * from './config-client.module';
