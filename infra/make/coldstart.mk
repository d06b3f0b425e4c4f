# Cold start: each function's bootstrap size (arm64, release flags) and init time, exec to its
# first GET /runtime/invocation/next under a Runtime API stand-in on 127.0.0.1, against a bare
# aws-lambda-go function (infra/coldstart). RUNS interleaved runs of each.
RUNS ?= 30

.PHONY: bench-coldstart
bench-coldstart:
	go test -count=1 -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime $(RUNS)x ./infra/coldstart/
