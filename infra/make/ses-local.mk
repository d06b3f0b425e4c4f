# aws-ses-v2-local from npm, pinned by infra/seslocal/package-lock.json: the SES v2 wire
# protocol for the mail adapter's tests. Installed once; reinstalled when the lock changes.
SES_LOCAL_DIR := $(TOOLS)/ses-local
SES_LOCAL_LOCK := infra/seslocal/package-lock.json
SES_LOCAL_STAMP := $(SES_LOCAL_DIR)/.installed-$(shell sha256sum $(SES_LOCAL_LOCK) | cut -c1-12)

$(SES_LOCAL_STAMP): infra/seslocal/package.json $(SES_LOCAL_LOCK)
	rm -rf $(SES_LOCAL_DIR)
	mkdir -p $(SES_LOCAL_DIR)
	cp infra/seslocal/package.json $(SES_LOCAL_LOCK) $(SES_LOCAL_DIR)/
	npm ci --prefix $(SES_LOCAL_DIR) --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: ses-local
ses-local: $(SES_LOCAL_STAMP)

UNIT_DEPS += ses-local
UNIT_WRAPPERS += env SES_LOCAL_DIR=$(SES_LOCAL_DIR) infra/make/with-ses-local
