// How swc compiles the TypeScript of this repository, for the tests (jest.config.js) and the
// bundles (scripts/bundle/bundle.mjs), so what ships is compiled as what is tested. Nest's DI
// needs decorators *and* decorator metadata, or it silently injects undefined.
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};
