# Install and GitOps: the Helm chart's generated files, dist/install.yaml (cdk8s), the container image and its tree,
# and the GitOps health tools. Included from the main Makefile (after mk/tools.mk).

INSTALL_MK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
VERSION := $(shell node -p 'require("$(INSTALL_MK_ROOT)/package.json").version' 2>/dev/null)
# The chart's default image (charts/lfm-operator/values.yaml image.repository, tag = appVersion = VERSION).
IMAGE_REPO ?= ghcr.io/lfm-operator/lfm-operator
IMAGE ?= $(IMAGE_REPO):$(VERSION)
CONTAINER_ENGINE ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
IMAGE_TREE_DIR ?= $(or $(TMPDIR),/tmp)/lfm-operator-image-tree
HELM := $(shell $(INSTALL_MK_ROOT)/hack/tools.sh --print-dir)/helm

.PHONY: manifests
manifests: build ## Generate the chart's RBAC/CRD templates and README tables, and dist/install.yaml (cdk8s app)
	node dist/cdk8s/main.js

.PHONY: verify-install
verify-install: build ## Fail when the chart's generated files or dist/install.yaml are stale; helm lint --strict
	@node dist/cdk8s/main.js --check
	@$(INSTALL_MK_ROOT)/hack/tools.sh helm
	@$(HELM) lint --strict charts/lfm-operator

.PHONY: image
image: ## Build the operator image (IMAGE=repo:tag, default the chart's) with docker or podman
	@test -n "$(CONTAINER_ENGINE)" || { echo "no docker or podman here: make image-tree assembles the image's tree instead"; exit 1; }
	$(CONTAINER_ENGINE) build -t $(IMAGE) $(INSTALL_MK_ROOT)

.PHONY: image-tree
image-tree: build ## Assemble the image's final tree (npm ci --omit=dev + dist/src) in IMAGE_TREE_DIR, read-only
	@$(INSTALL_MK_ROOT)/hack/image-tree.sh $(IMAGE_TREE_DIR)

.PHONY: gitops-tools
gitops-tools: ## Build the Argo CD Lua (gopher-lua) and Flux kstatus health tools (cached outside the repo)
	@$(INSTALL_MK_ROOT)/hack/gitops-tools.sh

# The GitOps health tests (test/unit/gitops*.test.ts) run these tools; they build them too when missing.
test-unit: gitops-tools
