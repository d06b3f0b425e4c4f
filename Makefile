# Service contacts: build, run locally, test.
#
#   make run                       the whole system on 127.0.0.1:3000, no AWS, no Docker
#   make token NIC=xx11111-ovh     a bearer token for the local stack
#   make test                      every test (installs its own tools into .tools/ and .venv/)
#   make fuzz                      a longer fuzzing of the HTTP API, with random seeds
#   make build                     arm64 bootstrap binaries into bin/<function>/
#   make sam-local                 sam build, sam local invoke and start-api under Docker (part of test)
#   make bench-coldstart           each function's size and init against a bare Lambda function
#   make bench-embedded            the embedded backend with 30 and 2,000 services in the table
#
# SAM builds each function with `make build-<LogicalId>` (BuildMethod: makefile).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

ADDR ?= 127.0.0.1:3000
SEED ?=
NIC ?=
FUNCTIONS := list request confirm resend operator await apply finish reconcile bounce

TOOLS := $(CURDIR)/.tools
STATICCHECK_VERSION := v0.6.1
STATICCHECK := $(TOOLS)/bin/staticcheck

# The architecture template.yaml deploys; the SAM local test builds for the machine's own
# (LAMBDA_GOARCH=amd64, see infra/sam).
LAMBDA_GOARCH ?= arm64
GO_LAMBDA_BUILD = GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: run token build test lint unit go-test tools clean diagram $(addprefix build-,$(FUNCTIONS))

run:
	go run ./infra/local -addr $(ADDR) $(if $(SEED),-seed $(SEED))

# The README's diagram of the contact-change state machine, drawn from its ASL file.
diagram:
	go run ./infra/statemachine/diagram -readme README.md

# A customer's token (NIC=, with CLAIM= when the stack reads another claim than sub) or an
# operator's (OPERATOR=); the command refuses both at once.
token:
	@test -n "$(NIC)$(OPERATOR)" || { echo 'usage: make token NIC=xx11111-ovh [CLAIM=custom:nic] | make token OPERATOR=support-alice' >&2; exit 2; }
	@go run ./infra/local/token $(if $(NIC),-nic '$(NIC)') $(if $(CLAIM),-claim '$(CLAIM)') $(if $(OPERATOR),-operator '$(OPERATOR)')

# Bulk load of accounts and services from JSON Lines, through the store (infra/load):
#   make load FILE=accounts.jsonl [DYNAMODB_ENDPOINT=http://127.0.0.1:8000] [CONTACTS_TABLE=name]
#             [CREATE_TABLES=1 REQUESTS_TABLE=name]
.PHONY: load
load:
	@test -n "$(FILE)" || { echo 'usage: make load FILE=accounts.jsonl [DYNAMODB_ENDPOINT=...] [CONTACTS_TABLE=...]' >&2; exit 2; }
	@env CONTACTS_TABLE='$(CONTACTS_TABLE)' REQUESTS_TABLE='$(REQUESTS_TABLE)' DYNAMODB_ENDPOINT='$(DYNAMODB_ENDPOINT)' \
		go run ./infra/load $(if $(CREATE_TABLES),-create-tables) '$(FILE)'

build:
	@for f in $(FUNCTIONS); do \
		echo "build $$f"; \
		$(GO_LAMBDA_BUILD) -o bin/$$f/bootstrap ./functions/$$f; \
	done

# One recipe for every function SAM builds; ARTIFACTS_DIR is set by SAM.
define sam_build
build-$(1):
	$(GO_LAMBDA_BUILD) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
$(eval $(call sam_build,ListFunction,list))
$(eval $(call sam_build,RequestFunction,request))
$(eval $(call sam_build,ConfirmFunction,confirm))
$(eval $(call sam_build,ResendFunction,resend))
$(eval $(call sam_build,OperatorFunction,operator))
$(eval $(call sam_build,AwaitFunction,await))
$(eval $(call sam_build,ApplyFunction,apply))
$(eval $(call sam_build,FinishFunction,finish))
$(eval $(call sam_build,ReconcileFunction,reconcile))
$(eval $(call sam_build,BounceFunction,bounce))

# Each file in infra/make adds a tool the tests need: its install target to UNIT_DEPS, a
# command that runs the tests with the tool started (and stops it after) to UNIT_WRAPPERS
# (each a command prefix, e.g. `env VAR=value infra/make/with-tool`, as they chain),
# and checks of its own to CHECKS.
UNIT_DEPS :=
UNIT_WRAPPERS :=
CHECKS :=
include $(sort $(wildcard infra/make/*.mk))

test: lint unit $(CHECKS)

$(STATICCHECK):
	GOBIN=$(TOOLS)/bin go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(STATICCHECK)

lint: $(STATICCHECK) $(LINT_DEPS)
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

unit: $(UNIT_DEPS)
	$(UNIT_WRAPPERS) $(MAKE) --no-print-directory go-test

# The race detector sleeps a second when each test binary exits, to let racing goroutines
# report; with some forty packages that is most of a minute, and a race found is reported
# as the test that found it fails anyway.
export GORACE ?= atexit_sleep_ms=0

# The store suite runs verbosely, so that the output names each backend it ran on.
go-test:
	go test -race -count=1 -v -run '^TestStoreOn' ./shared/store/
	go test -race -count=1 -skip '^TestStoreOn' ./...

clean:
	rm -rf bin .aws-sam

# The console's files to the stack's bucket (its ConsoleBucketName output); no-cache, as the
# files are not fingerprinted: CloudFront revalidates them, and serves a new upload at once.
.PHONY: deploy-console
deploy-console:
	@test -n "$(BUCKET)" || { echo 'usage: make deploy-console BUCKET=<ConsoleBucketName>' >&2; exit 2; }
	aws s3 sync web/static s3://$(BUCKET) --delete --cache-control no-cache
