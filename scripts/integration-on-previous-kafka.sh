#!/usr/bin/env bash
# The integration suite once more, on the previous major Kafka line (PREVIOUS_KAFKA_VERSION in
# scripts/local-kafka.ts, 3.9.1): `vitest run` before it ran everything on the newest 4.x. Skipped where
# KAFKA_BROKERS names an existing cluster (its version is the cluster's, not ours to choose) or where
# KAFKA_VERSION was set by hand (one version asked for, one version run).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${KAFKA_BROKERS:-}" ]; then
  echo "integration on the previous Kafka: skipped, KAFKA_BROKERS=${KAFKA_BROKERS} names the cluster under test"
  exit 0
fi
if [ -n "${KAFKA_VERSION:-}" ]; then
  echo "integration on the previous Kafka: skipped, KAFKA_VERSION=${KAFKA_VERSION} was asked for"
  exit 0
fi
previous="$(sed -n "s/^export const PREVIOUS_KAFKA_VERSION = '\(.*\)';/\1/p" scripts/local-kafka.ts)"
echo "integration suite on Apache Kafka ${previous}"
KAFKA_VERSION="$previous" exec npx vitest run --project integration
