# syntax=docker/dockerfile:1
# The operator image: `make image`. Multi-stage: compile TypeScript in a build stage, install the production
# dependencies alone in another, and copy only those and the compiled dist/src into a slim Node 24 runtime that runs
# as a non-root user and never writes to its filesystem (the chart mounts it read-only, with an emptyDir on /tmp).
# `make image-tree` assembles exactly the final stage's tree without a container engine; a test runs it.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# The dev control plane (test/devcluster) is compiled for the benchmarks, and never copied into the final stage.
COPY test/devcluster ./test/devcluster
COPY cdk8s ./cdk8s
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="lfm-operator" \
      org.opencontainers.image.description="Kubernetes operator that plans, serves and autoscales sparse Mixture-of-Experts LLMs on vLLM, SGLang or llama.cpp" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# image-tree: the final tree is these three paths (hack/image-tree.sh assembles the same, a unit test compares).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./package.json
COPY --from=build /src/dist/src ./dist/src
# A numeric user, so that runAsNonRoot can verify it (65532: the conventional "nonroot" of distroless images).
USER 65532:65532
# A small young generation: the operator's garbage is short-lived JSON, and V8's default 16 MiB semi-spaces would
# double its resident memory (bench/reconcile: 275 MiB -> 150 MiB peak at 1,000 resources, same throughput).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/src/cli/main.js"]
CMD ["run"]
