# Benchmarks that report numbers; none runs under `make test`.

# Cold start: each function's bootstrap size (arm64, release flags) and init time, exec to its
# first GET /runtime/invocation/next under a Runtime API stand-in on 127.0.0.1, against a bare
# aws-lambda-go function and against the SDK clients alone (infra/coldstart). RUNS interleaved
# runs of each.
RUNS ?= 30

.PHONY: bench-coldstart
bench-coldstart:
	go test -count=1 -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime $(RUNS)x ./infra/coldstart/

# The embedded backend with 30 and with 2,000 services in the table: listing an account's
# services and creating a request, through the local stack's API (infra/local/stack).
.PHONY: bench-embedded
bench-embedded:
	go test -count=1 -run '^$$' -bench '^BenchmarkTableSize$$' -benchtime 100x ./infra/local/stack/
