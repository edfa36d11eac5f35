# exportflow worker image: `docker compose up` builds it (see docker-compose.yml).
# Build stage: all dependencies, then `npm run build` (dist/: JavaScript, .d.ts and the prebuilt workflow bundle).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies only (no tsx, no TypeScript, no test tools) and the built dist/; the bin
# runs dist/cli.js, and the worker loads dist/workflow-bundle.js instead of running webpack at every start.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN mkdir -p /data/exports /data/state && chown -R node:node /data
USER node
ENV EXPORT_DIR=/data/exports EXPORTFLOW_DATA_DIR=/data/state CALLBACK_LISTEN=0.0.0.0:8787 METRICS_LISTEN=0.0.0.0:9464
EXPOSE 8787 9464
ENTRYPOINT ["node", "bin/exportflow.cjs"]
CMD ["worker"]
