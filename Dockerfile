# A static Condo binary on a minimal image (pure Go: no cgo, no libc needed).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /condo ./cmd/condo

FROM gcr.io/distroless/static-debian12
COPY --from=build /condo /condo
VOLUME /data
ENV CONDO_DATA=/data
EXPOSE 8080
ENTRYPOINT ["/condo", "serve"]
