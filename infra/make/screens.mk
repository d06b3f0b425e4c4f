# The README's pictures of the console (docs/screens/), taken by its main browser test:
# the test writes its screenshots to $ARTIFACTS_DIR/browser, and a few are kept.
SCREENS_DIR := docs/screens
SCREENS := console-2-services console-3-edit console-5-requests console-7-profile console-8-deep-link console-8b-done

.PHONY: screens
screens: chromium webcheck-tools
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	env CHROMIUM=$(CHROMIUM) AXE_CORE=$(AXE_CORE) ARTIFACTS_DIR="$$tmp" \
		go test ./infra/local/browser -run '^TestConsoleHandOverTech$$' -count=1 && \
	mkdir -p $(SCREENS_DIR) && \
	for s in $(SCREENS); do cp "$$tmp/browser/$$s.png" $(SCREENS_DIR)/; done
