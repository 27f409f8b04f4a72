import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The admin page is plain static files served by config-manager at `/` (ADMIN_UI_DIR).
// Relative asset URLs keep it working behind a reverse proxy that mounts it under a prefix.
export default defineConfig({
  root,
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir:
      process.env.ADMIN_UI_OUT_DIR ??
      fileURLToPath(new URL('../../dist/admin-ui', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the build anyone reaching the manager can fetch; `npm run dev:admin-ui`
    // still serves them while working on the page.
    sourcemap: false,
  },
  server: {
    // `npm run dev:admin-ui`: the page with hot reload, the API proxied to a running manager.
    proxy: { '/api': process.env.MANAGER_URL ?? 'http://127.0.0.1:8080' },
  },
});
