# The web console's checks, from npm, pinned by infra/webcheck/package-lock.json: the
# TypeScript compiler type-checks web/static/*.js (part of lint), and axe-core is injected
# by the browser tests into every screen of the console. Installed once; reinstalled when
# the lock changes.
WEBCHECK_DIR := $(TOOLS)/webcheck
WEBCHECK_LOCK := infra/webcheck/package-lock.json
WEBCHECK_STAMP := $(WEBCHECK_DIR)/.installed-$(shell sha256sum $(WEBCHECK_LOCK) | cut -c1-12)
AXE_CORE := $(WEBCHECK_DIR)/node_modules/axe-core/axe.min.js

$(WEBCHECK_STAMP): infra/webcheck/package.json $(WEBCHECK_LOCK)
	rm -rf $(WEBCHECK_DIR)
	mkdir -p $(WEBCHECK_DIR)
	cp infra/webcheck/package.json $(WEBCHECK_LOCK) $(WEBCHECK_DIR)/
	npm ci --prefix $(WEBCHECK_DIR) --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: webcheck-tools webcheck
webcheck-tools: $(WEBCHECK_STAMP)

# tsc --noEmit over the console's scripts, as infra/webcheck/tsconfig.json sets it.
webcheck: webcheck-tools
	$(WEBCHECK_DIR)/node_modules/.bin/tsc -p infra/webcheck/tsconfig.json

LINT_DEPS += webcheck
UNIT_DEPS += webcheck-tools
UNIT_WRAPPERS += env AXE_CORE=$(AXE_CORE)
