# event-processor container image, multi-stage: for builders that can pull a Go
# image and a runtime base. Where no registry is reachable, `make image` builds
# the same binaries with the local Go toolchain and assembles the image FROM
# scratch (image/build.sh, image/Dockerfile); it is the one the tests run.
#
#   make image-multistage                     # = docker build -t event-processor:dev .
#   docker run --rm event-processor:dev --help
#   docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=kafka:9092 event-processor:dev     # = "run"
#   docker run --rm --entrypoint /usr/local/bin/ktool event-processor:dev --help
#
# Build arguments:
#   GO_IMAGE       build stage, a Go 1.26 toolchain image (default golang:1.26-bookworm)
#   RUNTIME_IMAGE  runtime stage (default gcr.io/distroless/static-debian12:nonroot, which
#                  has CA certificates, tzdata and the nonroot user 65532). Any image works,
#                  scratch included: the binaries are static and USER is numeric.
#
# The binaries are built with -tags nodemo, so the image carries no embedded
# demo broker. How the image is tested as the chart runs it (read-only root
# filesystem, no capabilities, uid 65532):
#   go test -count=1 -run 'TestImage' ./integration/
# The file uses no BuildKit-only features, so both builders take it.

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN go build -trimpath -tags nodemo -ldflags='-s -w' -o /out/ ./cmd/event-processor ./cmd/ktool \
 && /out/event-processor --help >/dev/null

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="event-processor" \
      org.opencontainers.image.description="Exactly-once Kafka stream processor: validates and enriches JSON events, routes invalid ones to an error topic" \
      org.opencontainers.image.source="https://github.com/event-processor/event-processor" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/event-processor /out/ktool /usr/local/bin/
# nonroot in distroless; numeric so that it also works on scratch and so that
# Kubernetes' runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/event-processor"]
CMD ["run"]
