# exportflow worker image: `docker compose up` builds it (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Runtime dependencies only; tsx runs the TypeScript sources, so there is no build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY tsconfig.json ./
RUN mkdir -p /data/exports /data/state && chown -R node:node /data
USER node
ENV EXPORT_DIR=/data/exports EXPORTFLOW_DATA_DIR=/data/state CALLBACK_LISTEN=0.0.0.0:8787 METRICS_LISTEN=0.0.0.0:9464
EXPOSE 8787 9464
ENTRYPOINT ["node", "bin/exportflow.cjs"]
CMD ["worker"]
