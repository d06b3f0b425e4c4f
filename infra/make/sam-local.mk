# The SAM CLI for real (infra/sam): `sam build`, `sam local invoke` of every event in
# infra/events and `sam local start-api`, in containers of a Docker daemon that
# infra/make/with-docker starts with no bridge and no iptables, on a stand-in for the
# provided.al2023 base image (infra/make/lambda-base-image), against DynamoDB Local and
# aws-ses-v2-local on loopback. Debian's docker.io is installed when dockerd is missing;
# the package's own service is never started (the daemon is with-docker's alone).
DOCKERD := /usr/sbin/dockerd
BUSYBOX_DIR := $(TOOLS)/busybox

$(DOCKERD):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io

.PHONY: docker sam-local
docker: $(DOCKERD)

sam-local: $(SAM_STAMP) $(DOCKERD) dynamodb-local ses-local
	env DYNAMODB_LOCAL_DIR=$(DYNAMODB_LOCAL_DIR) infra/make/with-dynamodb-local \
	env SES_LOCAL_DIR=$(SES_LOCAL_DIR) infra/make/with-ses-local \
	infra/make/with-docker \
	env BUSYBOX_DIR=$(BUSYBOX_DIR) SAM=$(VENV)/bin/sam bash -c \
		'infra/make/lambda-base-image && go test -count=1 -v -timeout 30m -run "^TestSAMLocal$$" ./infra/sam/'

CHECKS += sam-local
