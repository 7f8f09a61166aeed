# syntax=docker/dockerfile:1
# A static Condo binary on a minimal image: the SQLite driver is pure Go
# (modernc.org/sqlite), so no cgo and no libc. fly_test.go (cmd/condo)
# checks this file against fly.toml and the server's defaults.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t condo .
#   fly deploy --build-arg VERSION=$(git describe --tags --always)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# .git stays out of the context (.dockerignore), so the toolchain cannot
# stamp the commit: VERSION is what `condo version` reports (empty: the
# module version, else "dev").
ARG VERSION=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/condo ./cmd/condo \
 && mkdir -p /out/data

# distroless static: CA certificates, tzdata, /etc/passwd and nothing else
# (no shell, no package manager).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/condo /condo
# The data directory belongs to the user that runs the server. On Fly.io
# the volume mounted over it is mounted for the image's user as well.
COPY --from=build --chown=65532:65532 /out/data /data
# nonroot, by number so that every runtime resolves it without /etc/passwd.
USER 65532:65532
ENV CONDO_ADDR=:8080 CONDO_DATA=/data
VOLUME /data
EXPOSE 8080
# No HEALTHCHECK: the image has no shell or HTTP client to run one, and
# Fly.io ignores it (fly.toml's checks call /healthz and /readyz).
ENTRYPOINT ["/condo"]
CMD ["serve"]
