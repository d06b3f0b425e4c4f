# Debian's chromium, for the browser tests of the confirmation page and the mail catcher
# (infra/local/browser). CHROMIUM in the tests' environment makes a missing browser a failure
# rather than a skip.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

.PHONY: chromium
chromium: $(CHROMIUM)

UNIT_DEPS += chromium
UNIT_WRAPPERS += env CHROMIUM=$(CHROMIUM)
