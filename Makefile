# Every target that needs DynamoDB runs it through scripts/with-dynamodb-local.sh,
# which installs DynamoDB Local into .cache/ on first use and starts it in memory
# on a free loopback port.

GO ?= go

.PHONY: test demo bench fmt vet

## test: the whole suite with the race detector and goleak, against DynamoDB Local.
test:
	scripts/with-dynamodb-local.sh $(GO) test -race -count=1 -timeout 10m ./...

## demo: several processes contend for locks; one holder is killed and its lock taken over.
demo:
	scripts/with-dynamodb-local.sh $(GO) run ./examples/demo

## bench: the library's Lock+Unlock cycle next to the same two writes with the raw SDK.
bench:
	scripts/with-dynamodb-local.sh $(GO) test -run '^$$' -bench . -benchtime 1000x -count 6 .

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .
