# Every target that needs DynamoDB runs it through scripts/with-dynamodb-local.sh,
# which installs DynamoDB Local into .cache/ on first use and starts it in memory
# on a free loopback port. make local runs one on a fixed port for you to use.

GO ?= go

.PHONY: test local demo bench chaos chaos-clock chaos-rogue chaos-session chaos-election chaos-semaphore chaos-java chaos-python fuzz fmt vet interop

## test: the whole suite twice, with the race detector and goleak. First on
## the in-memory store, as plain `go test ./...` runs it with no endpoint;
## then against DynamoDB Local with the tag dynamodblocal, which adds the
## tests only DynamoDB Local can answer (capacity units, its Date header,
## heap soaks, the command-line tool and the demo end to end, the chaos
## transport).
test:
	env -u AWS_ENDPOINT_URL_DYNAMODB $(GO) test -race -count=1 -timeout 10m ./...
	scripts/with-dynamodb-local.sh $(GO) test -race -count=1 -timeout 10m -tags dynamodblocal ./...

## local: DynamoDB Local in the foreground on port 8000 (PORT=8001 make local
## for another), in memory, until Ctrl-C. It prints the variables to export
## in another shell so that the command-line tool and the SDK use it.
PORT ?= 8000
local:
	PORT=$(PORT) scripts/dynamodb-local.sh

## demo: several processes contend for locks; one holder is killed and its lock taken over.
demo:
	scripts/with-dynamodb-local.sh $(GO) run ./examples/demo

## bench: every benchmark group of docs/PERFORMANCE.md, the classic-protocol
## baseline included, with benchstat tables; about 11 minutes. Raw output in out/bench/.
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

## chaos-clock: the chaos run in clock-bound mode. Every worker declares a
## 100ms bound (WithClockBound) and runs with its wall clock shifted within
## ±50ms; fails on any violation. Output in out/chaos-clock/.
## chaos-rogue: the same with the first worker's clock 600ms behind, beyond
## its bound but too little for the Date check to see. Passes only if the
## checker catches that worker's locks taken over within the lease.
## Both take CHAOS_FLAGS, e.g. CHAOS_FLAGS='-duration 5m -procs 6'.
CLOCK_FLAGS = -clock-bound 100ms
chaos-clock:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos $(CLOCK_FLAGS) -out out/chaos-clock $(CHAOS_FLAGS)
chaos-rogue:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos $(CLOCK_FLAGS) -rogue-offset -600ms -expect-early-takeover -out out/chaos-rogue $(CHAOS_FLAGS)

## chaos-session: the chaos run with session leases. The workers in odd
## slots use WithSessionLease, the others per-lock Sessions, on the same
## keys; kills and pauses of a session-lease worker cost it every lock its
## Session held. Takes CHAOS_FLAGS; output in out/chaos-session/.
chaos-session:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos -session-lease -out out/chaos-session $(CHAOS_FLAGS)

## chaos-election: the chaos run in election mode: every worker's goroutines
## campaign on one election, lead with fenced writes and Proclaims, resign or
## are killed or paused; fails on two leaders at once or a fencing violation.
## Takes CHAOS_FLAGS; output in out/chaos-election/.
chaos-election:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos -election -out out/chaos-election $(CHAOS_FLAGS)

## chaos-semaphore: the chaos run in semaphore mode: every goroutine takes
## permits of one semaphore of 3 permits; fails on more than 3 holders at
## once or any permit's fencing violation. Output in out/chaos-semaphore/.
chaos-semaphore:
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos -semaphore 3 -out out/chaos-semaphore $(CHAOS_FLAGS)

## chaos-java, chaos-python: mixed runs. The lock table is that client's, the
## dynamutex workers write its format (WithFormat), and two processes of the
## real client (the interop drivers of dynamodb-lock-client 1.4.0 or
## python-dynamodb-lock 0.9.1, installed first by scripts/install-interop.sh)
## take turns on the same keys, killed and paused like the others; everyone
## uses a 2s lease. Output in out/chaos-java/ and out/chaos-python/; both
## take CHAOS_FLAGS, e.g. CHAOS_FLAGS='-duration 5m'.
chaos-java chaos-python: chaos-%:
	scripts/install-interop.sh >/dev/null
	scripts/with-dynamodb-local.sh $(GO) run ./internal/cmd/chaos -mixed $* -out out/chaos-$* $(CHAOS_FLAGS)

## fuzz: each fuzz target for FUZZTIME (go test runs one target at a time).
## Targets are package:name.
FUZZTIME ?= 10s
FUZZ_TARGETS = .:FuzzDecodeRecord .:FuzzDecodeClaim .:FuzzMutexValidate ./dynamutextest:FuzzExpression ./dynamutextest:FuzzNumber
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; f=$${t#*:}; \
		echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## interop: installs the real Java and Python lock clients into .cache/interop
## (scripts/install-interop.sh) and runs the harness of interop/, its own Go
## module, against DynamoDB Local. See interop/README.md.
interop:
	scripts/install-interop.sh >/dev/null
	cd interop && $(GO) vet ./...
	cd interop && ../scripts/with-dynamodb-local.sh $(GO) test -race -count=1 -timeout 10m ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .
