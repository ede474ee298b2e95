# dbhealth-exporter: the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := bin/dbhealth-exporter
PKG     := github.com/prometheus/common/version
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X $(PKG).Version=$(VERSION) \
           -X $(PKG).Revision=$(shell git rev-parse --short HEAD 2>/dev/null) \
           -X $(PKG).Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
           -X $(PKG).BuildUser=$(shell whoami)@$(shell hostname) \
           -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

# Flags for the exporter under `make run`, e.g. make run ARGS='--log.level=debug'.
ARGS ?=

.PHONY: all build run test tools bench manifests vet fmt-check tidy-check clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/exporter

# With DATABASE_URL (or --db.dsn in ARGS) the exporter watches that database;
# otherwise a throwaway local PostgreSQL with the example migrations is started
# and stopped again on Ctrl-C.
run: build
	$(GO) run ./internal/devrun -exporter $(BIN) -- $(ARGS)

# vet, formatting, module tidiness, then every test with the race detector,
# against real PostgreSQL clusters started by internal/pgtest. The migration
# compatibility tests need `make tools` first.
test: vet fmt-check tidy-check
	$(GO) test -race -count=1 -timeout 15m ./...

# The real migration tools (golang-migrate, goose, dbmate, Knex, Liquibase,
# Alembic, ...) that the compatibility tests run; installed into .tools/ and,
# for Debian packages, the system.
tools:
	bash .ci/install-tools

# deploy/kubernetes/prometheusrule.yaml and servicemonitor.yaml from alerts/;
# a test fails while they are out of date.
manifests:
	$(GO) run ./internal/monitoring/cmd/manifests

# Benchmarks: measurements side by side with their baseline, never pass/fail.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './vendor/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

clean:
	rm -rf bin
