# dokubox: multi-stage build, production dependencies only, non-root, health check.
# Run it next to a Redis with AOF and maxmemory-policy noeviction (docs/operations.md).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json openapi.yaml ./
COPY --chown=node:node src ./src
COPY --chown=node:node adapters ./adapters
COPY --chown=node:node mappings ./mappings
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# tsx is a production dependency: the service runs its TypeScript sources directly.
CMD ["node", "--import", "tsx", "src/cli/start.ts"]
