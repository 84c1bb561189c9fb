# dsynth build, test and demo targets. `make test` is the README's test command.
GO      ?= go
# Go from the official tarball lives in /usr/local/go: use it when `go` is
# not on PATH (tests also run `go build`, so PATH itself is extended).
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif
BIN     := bin/dsynth
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)

.PHONY: all build test bench lint demo clean deps test-deps

# Debian packages: DEPS for building and the demo, TEST_DEPS also for the
# tests (Chromium drives the dashboard's end-to-end test; the temporal CLI,
# from the Go module proxy, is the farm tests' dev server).
DEPS      := bmake gcc libc6-dev make tar gzip xz-utils zstd git procps iproute2 zlib1g-dev
TEST_DEPS := $(DEPS) chromium ccache openssl

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dsynth

test:
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=freebsd $(GO) vet ./...
	GOOS=dragonfly $(GO) vet ./...

demo: build
	./examples/demo.sh $(BIN)

deps:
	@./.ci/apt-install $(DEPS)

test-deps:
	@./.ci/apt-install $(TEST_DEPS)
	@./.ci/install-temporal

clean:
	rm -rf bin
