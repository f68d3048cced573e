# chaind's image for users with a registry: build in golang, run FROM scratch.
#   docker build -t chaind:latest .
# Without a registry (no base image to pull), build a static binary and let
# chaind make the same final image:
#   CGO_ENABLED=0 go build -o chaind ./cmd/chaind && ./chaind testnet image
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /chaind ./cmd/chaind

FROM scratch
COPY --from=build /chaind /chaind
ENTRYPOINT ["/chaind"]
