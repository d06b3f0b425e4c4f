# DynamoDB Local from Maven Central, for the store suite and the races on the real emulator.
DYNAMODB_LOCAL_DIR := $(TOOLS)/dynamodb-local
DYNAMODB_LOCAL_POM := shared/store/testdata/dynamodb-local-pom.xml
DYNAMODB_LOCAL_STAMP := $(DYNAMODB_LOCAL_DIR)/.installed-$(shell sha256sum $(DYNAMODB_LOCAL_POM) | cut -c1-12)

$(DYNAMODB_LOCAL_STAMP): $(DYNAMODB_LOCAL_POM)
	rm -rf $(DYNAMODB_LOCAL_DIR)
	mvn -q -B -f $(DYNAMODB_LOCAL_POM) dependency:copy-dependencies -DoutputDirectory=$(DYNAMODB_LOCAL_DIR)
	touch $@

.PHONY: dynamodb-local
dynamodb-local: $(DYNAMODB_LOCAL_STAMP)

UNIT_DEPS += dynamodb-local
UNIT_WRAPPERS += env DYNAMODB_LOCAL_DIR=$(DYNAMODB_LOCAL_DIR) infra/make/with-dynamodb-local

# Listing one account's services at 1,000 and 100,000 services (loading takes minutes).
.PHONY: bench
bench: dynamodb-local
	DYNAMODB_LOCAL_DIR=$(DYNAMODB_LOCAL_DIR) infra/make/with-dynamodb-local \
		go test -run '^$$' -bench ServicesOfOneAccount -benchtime 500x ./shared/store/
