# syntax=docker/dockerfile:1
#
# One small image with every reviewlens binary: reviewlens (every step as a
# subcommand, the entrypoint) and reviewlens-<step> (one step each). The
# binary is static (CGO_ENABLED=0: the SQLite ledger is pure Go), the
# base is distroless static (CA certificates, tzdata, /etc/passwd with the
# nonroot user, no shell, no package manager), and the steps run as that
# user. examples/airflow and examples/argo run it.
#
#   docker build -t REGISTRY/reviewlens:TAG .
#   docker run --rm REGISTRY/reviewlens:TAG stage --help
#
# Pin the two base images by digest (image@sha256:...) for reproducible
# builds. The build stage runs on the builder's platform and
# cross-compiles, so `docker buildx build --platform linux/amd64,linux/arm64`
# is quick.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: a change to the code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# One binary, reviewlens, and reviewlens-<step> as links to it for every
# cmd/reviewlens-<step>: run under that name it is that step, with the same
# flags as the step's own binary (internal/cli.Run). Eleven binaries of their
# own would weigh about 570 MB, each carrying the AWS SDK; this one weighs 75.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
	go build -trimpath -ldflags="-s -w" -o /out/bin/reviewlens ./cmd/reviewlens && \
	cd cmd && for step in reviewlens-*; do ln -s reviewlens "/out/bin/$step"; done

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
# 65532 is distroless's nonroot user; numeric, so that Kubernetes'
# runAsNonRoot can check it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/reviewlens"]
CMD ["--help"]
