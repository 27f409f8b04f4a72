# syntax=docker/dockerfile:1
# dedup-worker production image. Build from the repository root:
#   docker build -f docker/dedup-worker.Dockerfile -t dedup-worker .
# (ops/compose.yml does this with context ..)

# --- build: every dependency, compile apps and libs to dist/ -------------------------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs ./libs
COPY apps ./apps
# The launcher and bundler of dist/bundle (the code cache is written here, at build time).
COPY scripts/bundle ./scripts/bundle
COPY scripts/swc-options.cjs ./scripts/
RUN npm run build

# --- prod-deps: runtime dependencies only (native modules built here, with the tools) -----
FROM node:20-bookworm-slim AS prod-deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
# DATA_DIR holds the last-known-good file (LKG_PATH defaults to DATA_DIR/<service>.<id>.lkg.json);
# INPUT_DIR / OUTPUT_DIR are the batch inbox and the reports, usually shared volumes.
ENV NODE_ENV=production \
    DATA_DIR=/data \
    INPUT_DIR=/srv/inbox \
    OUTPUT_DIR=/srv/outbox \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Owned by the unprivileged `node` user (uid 1000) so fresh named volumes are too.
RUN mkdir -p /data /srv/inbox /srv/outbox && chown node:node /data /srv/inbox /srv/outbox
USER node
VOLUME ["/data"]
EXPOSE 9464
# /health on the metrics port answers while the worker runs (its body says online/degraded;
# config delivery per instance is also visible at GET /api/services/dedup-worker/instances).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# dist/bundle/<app>.js: the app in one file with its code cache (scripts/bundle/bundle.mjs).
CMD ["node", "dist/bundle/dedup-worker.js"]
