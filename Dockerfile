# dokubox: compiled in a build stage, run as JavaScript on Node 24 LTS with
# production dependencies only, as a non-root user, with a health check.
# Run it next to a Redis with AOF and maxmemory-policy noeviction (docs/operations.md).

# Build: all dependencies (TypeScript), `npm run build` compiles src/ and adapters/ to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build

# Production dependencies only.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# NODE_COMPILE_CACHE: V8 code cache of every module, filled below, so even the
# first start of a new container skips most of the compiling (Node checks each
# entry against the file's content; a stale or missing cache is only slower).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    NODE_COMPILE_CACHE=/app/.node-compile-cache
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json openapi.yaml ./
COPY --from=build --chown=node:node /app/dist/src ./dist/src
COPY --from=build --chown=node:node /app/dist/adapters ./dist/adapters
# Files the compiled code reads from the project tree (found via package.json).
COPY --chown=node:node adapters/case-system/wsdl ./adapters/case-system/wsdl
COPY --chown=node:node mappings ./mappings
# The screens' style sheets and browser scripts (compiled with esbuild when the service starts).
COPY --chown=node:node src/web ./src/web
RUN mkdir -p "$NODE_COMPILE_CACHE" && chown node:node "$NODE_COMPILE_CACHE"
USER node
# Loads (but does not start) the service once: start.js only starts when it is the program.
RUN node --input-type=module -e "await import('./dist/src/cli/start.js')"
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/cli/start.js"]
