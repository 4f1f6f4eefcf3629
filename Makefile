SHELL := /bin/bash
GO ?= go
PKGS := github.com/httvps/httvps/...
MODULES := $(shell sed -n 's/^\t\.\/\(.*\)/\1/p' go.work)
FUZZTIME ?= 10s
TEST_TIMEOUT ?= 20m

.PHONY: run test bench lint vet fmt migrate tidy deps deps-run build fuzz fuzz-long nats clean-data

run: deps-run
	$(GO) run ./services/httvps/cmd/httvps

test: deps lint
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(MAKE) fuzz

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./schemas/wire
	$(GO) test -run '^$$' -fuzz '^FuzzSession$$' -fuzztime $(FUZZTIME) ./services/gateway/internal/session

# fuzz-long drives whole gateway sessions for a million inputs (docs/benchmarks.md).
fuzz-long:
	$(GO) test -run '^$$' -fuzz '^FuzzSession$$' -fuzztime 1000000x -fuzzminimizetime 2s -timeout 3h ./services/gateway/internal/session

bench: deps
	$(GO) run ./services/bench/cmd/httvps-bench -out docs/benchmarks.md

build:
	mkdir -p bin
	for m in $(MODULES); do \
	  for c in $$(ls -d $$m/cmd/* 2>/dev/null); do $(GO) build -o bin/ ./$$c || exit 1; done; \
	done

lint: fmt vet

fmt:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

migrate: deps-run
	$(GO) run ./migrations/cmd/httvps-migrate up

tidy:
	for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy) || exit 1; done

nats:
	$(GO) tool nats $(ARGS)

deps:
	deploy/scripts/deps.sh test

deps-run:
	deploy/scripts/deps.sh run

clean-data:
	@if [ -f .data/postgres.location ]; then rm -rf "$$(cat .data/postgres.location)"; fi
	rm -rf .data
