# NAV's mock-oauth2-server from Maven Central: a real OpenID Connect issuer for the console's
# sign-in (infra/local/browser). MOCK_OAUTH2_SERVER in the tests' environment makes a missing
# server a failure rather than a skip.
MOCK_OAUTH2_DIR := $(TOOLS)/mock-oauth2-server
MOCK_OAUTH2_POM := infra/local/browser/testdata/mock-oauth2-server-pom.xml
MOCK_OAUTH2_STAMP := $(MOCK_OAUTH2_DIR)/.installed-$(shell sha256sum $(MOCK_OAUTH2_POM) | cut -c1-12)
MOCK_OAUTH2_PORT ?= 8080

$(MOCK_OAUTH2_STAMP): $(MOCK_OAUTH2_POM)
	rm -rf $(MOCK_OAUTH2_DIR)
	mvn -q -B -f $(MOCK_OAUTH2_POM) dependency:copy-dependencies -DoutputDirectory=$(MOCK_OAUTH2_DIR)
	touch $@

.PHONY: mock-oauth2-server oidc-issuer
mock-oauth2-server: $(MOCK_OAUTH2_STAMP)

# An issuer to sign in to the console with, on loopback: any user name signs in as itself.
# Then: make run OIDC_ISSUER=http://127.0.0.1:$(MOCK_OAUTH2_PORT)/default OIDC_CLIENT_ID=customer-space
oidc-issuer: mock-oauth2-server
	JSON_CONFIG='{"interactiveLogin":true,"loginPagePath":"$(CURDIR)/infra/local/browser/testdata/login.html"}' \
	SERVER_HOSTNAME=127.0.0.1 SERVER_PORT=$(MOCK_OAUTH2_PORT) \
		java -cp '$(MOCK_OAUTH2_DIR)/*' no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt

UNIT_DEPS += mock-oauth2-server
UNIT_WRAPPERS += env MOCK_OAUTH2_SERVER=$(MOCK_OAUTH2_DIR)
