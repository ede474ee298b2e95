# dbhealth-exporter: the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     ?= bin/dbhealth-exporter
DEVRUN  ?= bin/devrun
PKG     := github.com/prometheus/common/version
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X $(PKG).Version=$(VERSION) \
           -X $(PKG).Revision=$(shell git rev-parse --short HEAD 2>/dev/null) \
           -X $(PKG).Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
           -X $(PKG).BuildUser=$(shell whoami)@$(shell hostname) \
           -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

# Flags for the exporter under `make run`, e.g. make run ARGS='--log.level=debug'.
ARGS ?=

.PHONY: all build run test deploy-test tools bench fuzz manifests vet fmt-check tidy-check clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/exporter

# With DATABASE_URL (or --db.dsn in ARGS) the exporter watches that database;
# otherwise a throwaway local PostgreSQL with the example migrations is started
# and stopped again on Ctrl-C.
# devrun is built rather than started with `go run`, so that Ctrl-C ends
# it (and make) quietly.
run: build
	$(GO) build -o $(DEVRUN) ./devtools/devrun
	@exec $(DEVRUN) -exporter $(BIN) -- $(ARGS)

# The migration tools and helm into .tools/ when missing (a missing system
# package stops it with the apt-get command to run), vet, formatting, module
# tidiness, then every test with the race detector, against real PostgreSQL
# clusters started by internal/pgtest.
test: tools vet fmt-check tidy-check deploy-test
	$(GO) test -race -count=1 -timeout 15m ./...

# The Kubernetes manifests and the Helm chart: deploy/ is a Go module of its
# own (k8s.io/api stays out of the exporter's dependencies); needs helm from
# `make tools`.
deploy-test: tools
	cd deploy && $(GO) vet ./... && $(GO) mod tidy -diff && $(GO) test -count=1 ./...

# The real migration tools (golang-migrate, goose, dbmate, Knex, Liquibase,
# Alembic, ...) that the compatibility tests run, and helm, into .tools/;
# quick when present. System packages are checked, not installed (see
# .ci/install-tools).
tools:
	bash .ci/install-tools

# deploy/kubernetes/prometheusrule.yaml and servicemonitor.yaml from alerts/;
# a test fails while they are out of date.
manifests:
	$(GO) run ./devtools/manifests
	cp alerts/dbhealth.rules.yml deploy/helm/dbhealth-exporter/files/dbhealth.rules.yml

# Benchmarks: measurements side by side with their baseline, never pass/fail.
# The Go benchmarks, then the exporter binary under wrk next to a bare
# handler, alexliesenfeld/health's handler and SELECT 1 per request, with the
# database cost, memory and outage detection (needs wrk; about 5 minutes;
# e.g. BENCHFLAGS='-out /tmp/bench.md'). Results: docs/benchmarks.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...
	$(GO) run ./devtools/exporterbench -exporter $(BIN) $(BENCHFLAGS)

# Fuzzing: every Fuzz target of every package, FUZZTIME each, one after the
# other (go test fuzzes one target per run), e.g. make fuzz FUZZTIME=5m.
# Failing inputs are saved under the package's testdata/fuzz/<target>/, where
# plain `go test` (make test) replays them from then on.
FUZZTIME ?= 30s

fuzz:
	@failed=; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "== $$dir $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$dir || failed="$$failed $$dir:$$target"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzzing failed:$$failed"; exit 1; fi

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './vendor/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

clean:
	rm -rf bin
