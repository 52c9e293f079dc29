# Pinned control-plane binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok, helm), built from the Go modules in tools/ by hack/tools.sh into a
# version-keyed cache directory outside the repo. Included from the main Makefile.

TOOLS_MK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
TOOLS_DIR := $(shell $(TOOLS_MK_ROOT)/hack/tools.sh --print-dir)

.PHONY: tools
tools: ## Build the pinned control-plane binaries (cached outside the repo)
	@$(TOOLS_MK_ROOT)/hack/tools.sh
