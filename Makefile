# Every target that needs DynamoDB runs it through scripts/with-dynamodb-local.sh,
# which installs DynamoDB Local into .cache/ on first use and starts it in memory
# on a free loopback port.

GO ?= go

.PHONY: test demo bench chaos fuzz fmt vet

## test: the whole suite with the race detector and goleak, against DynamoDB Local.
test:
	scripts/with-dynamodb-local.sh $(GO) test -race -count=1 -timeout 10m ./...

## demo: several processes contend for locks; one holder is killed and its lock taken over.
demo:
	scripts/with-dynamodb-local.sh $(GO) run ./examples/demo

## bench: every benchmark group of docs/PERFORMANCE.md, the classic-protocol
## baseline included, with benchstat tables; under 10 minutes. Raw output in out/bench/.
bench:
	scripts/with-dynamodb-local.sh scripts/bench.sh
	rm -f out/bench/classic.txt
	OUT=$(CURDIR)/out/bench/classic.txt bench/classic/run.sh 4

## chaos: worker processes contend through injected faults, kills and pauses;
## a checker replays the log and fails on any broken guarantee. Longer runs:
## make chaos CHAOS_FLAGS='-duration 10m -procs 6'. See docs/RELIABILITY.md.
CHAOS_FLAGS ?=
chaos:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos $(CHAOS_FLAGS)

## fuzz: each fuzz target for FUZZTIME (go test runs one target at a time).
## Targets are package:name.
FUZZTIME ?= 10s
FUZZ_TARGETS = .:FuzzDecodeRecord .:FuzzMutexValidate ./dynamutextest:FuzzExpression ./dynamutextest:FuzzNumber
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; f=$${t#*:}; \
		echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .
