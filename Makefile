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

# bench runs the benchmarks in bench/: the manifest step on a generated
# 1,000,000-line manifest, and the predictions step on 20,000 outputs behind
# an S3 endpoint that answers every request 20 ms late (SEQUENTIAL=0 skips
# its 7-minute sequential run).
bench:
	bash bench/manifest.sh
	bash bench/predictions.sh
