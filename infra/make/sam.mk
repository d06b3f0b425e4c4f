# AWS SAM CLI and cfn-lint from PyPI, pinned in infra/make/sam-requirements.txt with every
# dependency pinned in sam-constraints.txt, installed once into .venv and reinstalled when the
# pins change. sam-check validates and lints template.yaml and builds every function with SAM
# (BuildMethod: makefile, no Docker) into a temporary folder.
VENV := $(CURDIR)/.venv
SAM_PINS := infra/make/sam-requirements.txt infra/make/sam-constraints.txt
SAM_STAMP := $(VENV)/.sam-installed-$(shell cat $(SAM_PINS) | sha256sum | cut -c1-12)

$(SAM_STAMP): $(SAM_PINS)
	rm -f $(VENV)/.sam-installed-*
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check \
		-r infra/make/sam-requirements.txt -c infra/make/sam-constraints.txt
	touch $@

.PHONY: sam-tools sam-check
sam-tools: $(SAM_STAMP)

sam-check: $(SAM_STAMP)
	VENV=$(VENV) infra/make/sam-check

CHECKS += sam-check
