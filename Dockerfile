# syntax=docker/dockerfile:1
# Multi-stage build: compile with the locked dependencies, run as non-root on
# a minimal base. See README.md "Running with Docker".

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
RUN cargo build --release --locked \
 && strip target/release/pingone-sync-exporter

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/pingone-sync-exporter /usr/local/bin/pingone-sync-exporter
COPY config/pingone-sync-exporter.yml /etc/pingone-sync-exporter/config.yml
USER nonroot:nonroot
EXPOSE 9871
ENTRYPOINT ["/usr/local/bin/pingone-sync-exporter"]
CMD ["--config.file=/etc/pingone-sync-exporter/config.yml"]
