# A local control plane with the fake GPU pool (test/devcluster), for trying the operator by hand. Included from the
# main Makefile. The processes run detached; their state (PKI, kubeconfig, logs, etcd data) is in DEVCLUSTER_DIR.

DEVCLUSTER_DIR ?= $(CURDIR)/.tmp/devcluster

.PHONY: cluster-up
cluster-up: build tools ## Start a local control plane with fake GPU nodes in the background; prints KUBECONFIG=... last
	@node dist/test/devcluster/cli.js up --state-dir "$(DEVCLUSTER_DIR)" --bin-dir "$(TOOLS_DIR)"

.PHONY: cluster-down
cluster-down: ## Stop the local control plane started by cluster-up (and what make demo left running) and remove its state
	@test -f dist/test/devcluster/cli.js || $(MAKE) --no-print-directory build
	@for f in .tmp/demo-operator.pid .tmp/demo-activator.pid .tmp/demo-engine.pid; do if [ -f $$f ]; then kill "$$(cat $$f)" 2>/dev/null; rm -f $$f; fi; done
	@node dist/test/devcluster/cli.js down --state-dir "$(DEVCLUSTER_DIR)"
