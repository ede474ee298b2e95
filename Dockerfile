# A static binary on a distroless base, running as non-root (UID 65532).
# Build: docker build -t dbhealth-exporter .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
      -o /out/dbhealth-exporter ./cmd/exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dbhealth-exporter /dbhealth-exporter
USER 65532:65532
EXPOSE 9720
ENTRYPOINT ["/dbhealth-exporter"]
