# Schemathesis from PyPI, pinned in infra/make/schemathesis-requirements.txt with every
# dependency pinned in schemathesis-constraints.txt (at the SAM tooling's versions where they
# share one), installed once into .venv and reinstalled when the pins change. The fuzz test
# (infra/fuzz) runs it against the local stack, on the embedded backend and on DynamoDB
# Local; SCHEMATHESIS in its environment makes a missing tool a failure rather than a skip.
VENV ?= $(CURDIR)/.venv
SCHEMATHESIS := $(VENV)/bin/schemathesis
SCHEMATHESIS_PINS := infra/make/schemathesis-requirements.txt infra/make/schemathesis-constraints.txt
SCHEMATHESIS_STAMP := $(VENV)/.schemathesis-installed-$(shell cat $(SCHEMATHESIS_PINS) | sha256sum | cut -c1-12)

$(SCHEMATHESIS_STAMP): $(SCHEMATHESIS_PINS)
	rm -f $(VENV)/.schemathesis-installed-*
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check \
		-r infra/make/schemathesis-requirements.txt -c infra/make/schemathesis-constraints.txt
	touch $@

.PHONY: schemathesis fuzz
schemathesis: $(SCHEMATHESIS_STAMP)

UNIT_DEPS += schemathesis
UNIT_WRAPPERS += env SCHEMATHESIS=$(SCHEMATHESIS)

# A longer fuzzing run than make test's, with a fresh random seed (printed, to replay a run
# with FUZZ_SEED=<seed>) and more examples per operation:
#   make fuzz [FUZZ_EXAMPLES=1000] [FUZZ_SEED=random]
FUZZ_EXAMPLES ?= 1000
FUZZ_SEED ?= random
fuzz: $(SCHEMATHESIS_STAMP) dynamodb-local
	DYNAMODB_LOCAL_DIR=$(DYNAMODB_LOCAL_DIR) infra/make/with-dynamodb-local \
		env SCHEMATHESIS=$(SCHEMATHESIS) FUZZ_SEED=$(FUZZ_SEED) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		go test -count=1 -v -timeout 2h -run '^TestSchemathesis' ./infra/fuzz/
