# syntax=docker/dockerfile:1
# config-manager production image. Build from the repository root:
#   docker build -f docker/config-manager.Dockerfile -t config-manager .
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
# pg_dump / pg_restore for `npm run backup` / `restore` and the compose `backup` service: the
# client of the server's major version (pg_dump refuses a newer server), from the PostgreSQL
# apt repository (Debian bookworm ships 15). PG_MAJOR follows ops/compose.yml's postgres image.
ARG PG_MAJOR=16
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl \
  && install -d /usr/share/postgresql-common/pgdg \
  && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
    https://www.postgresql.org/media/keys/ACCC4CF8.asc \
  && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
    > /etc/apt/sources.list.d/pgdg.list \
  && apt-get update \
  && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
  && apt-get purge -y curl && apt-get autoremove -y \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    CONFIG_DEFAULTS_DIR=/app/config/defaults
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY ops/backup-loop.sh ./ops/backup-loop.sh
# /data and /backups belong to the unprivileged `node` user (uid 1000) so fresh named volumes
# do too.
RUN mkdir -p /data /backups && chown node:node /data /backups
USER node
VOLUME ["/data"]
EXPOSE 8080
# Liveness: GET /health (no auth). Readiness (database and broker) is /health/ready.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations run at start. Keys in an image without dev dependencies:
#   docker run --rm config-manager node dist/apps/config-manager/src/cli/keys.js generate
# Backup / restore: node dist/apps/config-manager/src/cli/backup.js --out FILE, restore.js FILE.
# dist/bundle/<app>.js: the app in one file with its code cache (scripts/bundle/bundle.mjs).
CMD ["node", "dist/bundle/config-manager.js"]
