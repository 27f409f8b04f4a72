// Two projects: fast unit specs beside the code, end-to-end specs under each app's test/.
// swc compiles as for the bundles (scripts/swc-options.cjs), with inline source maps.
const swc = ['@swc/jest', { ...require('./scripts/swc-options.cjs'), sourceMaps: 'inline' }];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/contracts$': '<rootDir>/libs/contracts/src',
    '^@app/crypto$': '<rootDir>/libs/crypto/src',
    '^@app/config-client$': '<rootDir>/libs/config-client/src',
    '^@app/logging$': '<rootDir>/libs/logging/src',
    '^@app/testing$': '<rootDir>/libs/testing/src',
  },
  rootDir: __dirname,
  // Build output (dist/packages/config-client holds a second copy of the SDK's package.json).
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  maxWorkers: 2,
  // testTimeout is a global option (a project's own is ignored): end-to-end specs start real
  // processes, and a loaded 2-core machine can take more than the 5 s default.
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{apps,libs}/**/src/**/*.spec.ts',
        // The cross-language vectors' drift and consumption test sits beside the files it reads.
        '<rootDir>/libs/contracts/test-vectors/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      // clients/<language>/test: the clients in other languages, driven against a real manager.
      testMatch: ['<rootDir>/{apps,clients}/*/test/**/*.e2e-spec.ts'],
    },
  ],
};
