# Developer and CI entry points. `make test` is what .ci/run runs.

GO ?= go

.PHONY: all build test vet fmt-check bench

all: build

build:
	$(GO) build ./...

# test vets, checks formatting, then runs every test with the throwaway
# services (moto_server) that scripts/test-services.sh starts and stops.
test: vet fmt-check
	scripts/test-services.sh $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

# fmt-check fails listing the Go files gofmt would change (testdata and
# hidden directories excluded).
fmt-check:
	@unformatted=$$(find . -name '*.go' -not -path '*/testdata/*' -not -path '*/.*/*' -exec gofmt -l {} +); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; \
		echo "run: gofmt -w <files>"; \
		exit 1; \
	fi

# bench runs the benchmark script when it exists (bench/manifest.sh).
bench:
	@if [ -f bench/manifest.sh ]; then \
		bash bench/manifest.sh; \
	else \
		echo "bench/manifest.sh not present; nothing to benchmark yet"; \
	fi
