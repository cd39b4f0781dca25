#!/usr/bin/env bash
# One local Apache Kafka node for trying the processor against a real broker:
# a combined broker and KRaft controller from the project's image, with host
# networking, listening on 127.0.0.1 only, with every setting a single node
# needs (replication factor 1 for the internal topics, so that groups and
# transactions work). Its data lives in the container: `down` removes it.
#
#   integration/kafka-image/local.sh up     # (make kafka-up) start it and wait until it answers
#   integration/kafka-image/local.sh down   # (make kafka-down) stop and remove it
#
# KAFKA_PORT (default 9092) and KAFKA_CONTROLLER_PORT (default 9093) choose
# the ports; KAFKA_IMAGE the image (default event-processor/kafka:<VERSION>,
# built by `make kafka-image`).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
image=${KAFKA_IMAGE:-event-processor/kafka:$version}
port=${KAFKA_PORT:-9092}
controller=${KAFKA_CONTROLLER_PORT:-9093}
name=event-processor-kafka

case "${1:-}" in
up)
  if [ -n "$(docker ps -q --filter name="^${name}$")" ]; then
    echo "kafka-up: $name is already running (make kafka-down stops it)"
    exit 0
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --network host \
    -e CLUSTER_ID=ep-local-kafka-cluster0 \
    -e KAFKA_NODE_ID=1 \
    -e KAFKA_PROCESS_ROLES=broker,controller \
    -e KAFKA_LISTENERS="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller" \
    -e KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://127.0.0.1:$port" \
    -e KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER \
    -e KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT \
    -e KAFKA_INTER_BROKER_LISTENER_NAME=PLAINTEXT \
    -e KAFKA_CONTROLLER_QUORUM_VOTERS="1@127.0.0.1:$controller" \
    -e KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1 \
    -e KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1 \
    -e KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1 \
    -e KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS=3 \
    -e KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS=3 \
    -e KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR=1 \
    -e KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR=1 \
    -e KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0 \
    -e KAFKA_AUTO_CREATE_TOPICS_ENABLE=false \
    -e KAFKA_LOG_DIRS=/tmp/kraft-combined-logs \
    -e KAFKA_HEAP_OPTS="-Xms256m -Xmx768m" \
    "$image" >/dev/null
  for _ in $(seq 1 120); do
    if docker logs "$name" 2>&1 | grep -q "Kafka Server started"; then
      echo "kafka-up: Apache Kafka $version on 127.0.0.1:$port (container $name; make kafka-down removes it)"
      exit 0
    fi
    if [ -z "$(docker ps -q --filter name="^${name}$")" ]; then
      echo "kafka-up: the broker exited; its log:" >&2
      docker logs "$name" 2>&1 | tail -n 30 >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "kafka-up: the broker did not start within 60 s; its log:" >&2
  docker logs "$name" 2>&1 | tail -n 30 >&2
  exit 1
  ;;
down)
  if docker rm -f "$name" >/dev/null 2>&1; then
    echo "kafka-down: removed $name"
  else
    echo "kafka-down: $name is not running"
  fi
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
