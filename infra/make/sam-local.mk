# The SAM CLI for real (infra/sam): `sam build`, `sam local invoke` of every event in
# infra/events and `sam local start-api`, in containers of a Docker daemon that
# infra/make/with-docker starts with no bridge and no iptables, on a stand-in for the
# provided.al2023 base image (infra/make/lambda-base-image), against DynamoDB Local and
# aws-ses-v2-local on loopback. Debian's docker.io is installed when dockerd is missing.
DOCKERD := /usr/sbin/dockerd
BUSYBOX_DIR := $(TOOLS)/busybox

# The package must not start its own daemon, which would have a bridge and iptables rules:
# service starts are denied during the install, through Debian's policy-rc.d, unless the
# machine already has one.
$(DOCKERD):
	$(SUDO) apt-get update -q
	if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
		$(SUDO) chmod +x /usr/sbin/policy-rc.d; \
		trap '$(SUDO) rm -f /usr/sbin/policy-rc.d' EXIT; \
	fi; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io

.PHONY: docker sam-local
docker: $(DOCKERD)

# Prerequisites by target name: sam.mk and ses-local.mk are read after this file.
sam-local: sam-tools docker dynamodb-local ses-local
	env DYNAMODB_LOCAL_DIR=$(DYNAMODB_LOCAL_DIR) infra/make/with-dynamodb-local \
	env SES_LOCAL_DIR=$(SES_LOCAL_DIR) infra/make/with-ses-local \
	infra/make/with-docker \
	env BUSYBOX_DIR=$(BUSYBOX_DIR) SAM=$(VENV)/bin/sam bash -c \
		'infra/make/lambda-base-image && go test -count=1 -v -timeout 30m -run "^TestSAMLocal$$" ./infra/sam/'

CHECKS += sam-local
