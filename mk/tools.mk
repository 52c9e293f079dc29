# Pinned control-plane binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok, helm) and the manifest scanner kube-score, built from the Go modules in
# tools/ by hack/tools.sh into version-keyed cache directories outside the repo. Included from
# the main Makefile.

TOOLS_MK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
TOOLS_DIR := $(shell $(TOOLS_MK_ROOT)/hack/tools.sh --print-dir)

.PHONY: tools
tools: ## Build the pinned control-plane binaries (cached outside the repo)
	@$(TOOLS_MK_ROOT)/hack/tools.sh

.PHONY: kube-score
kube-score: ## Build the pinned kube-score of make scan (cached outside the repo; ~2-4 min cold)
	@$(TOOLS_MK_ROOT)/hack/tools.sh kube-score
