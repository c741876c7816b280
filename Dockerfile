# syntax=docker/dockerfile:1
# One image for every service and the CLI; the first argument chooses what runs
# (infra/docker/entrypoint.sh): ingest, webhooks, sync-worker, assignment-worker, realtime,
# migrate, or `switchboard <subcommand>`. Build from the repository root:
#   docker build -t switchboard .
#   docker run --rm -e DATABASE_URL=... switchboard migrate
#   docker run -p 8080:8080 -e NODE_ENV=production -e WHATSAPP_APP_SECRET=... switchboard ingest
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: every dependency (dev included), then plain JavaScript for every service and the CLI.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund && npm run build

# Production dependencies only (the contract: `npm ci --omit=dev` after the build runs everything),
# then the TypeScript sources go: nothing in the image runs them.
FROM build AS production
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
  && find . -name node_modules -prune -o -type d -name src -prune -exec rm -rf {} + \
  && rm -rf .turbo

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service: the process cannot rewrite its own code.
COPY --from=production /app /app
RUN chmod 0555 /app/infra/docker/entrypoint.sh
# The node image's unprivileged user (uid 1000); Kubernetes' runAsNonRoot checks the number.
USER 1000:1000
EXPOSE 8080 8081 8082 8083 8084
# /healthz of whichever service this container runs (its port from the same variables it reads).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/app/infra/docker/healthcheck.mjs"]
ENTRYPOINT ["/app/infra/docker/entrypoint.sh"]
CMD ["--help"]
