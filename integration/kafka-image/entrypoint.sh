#!/bin/bash
# Starts a single Apache Kafka node configured from the environment, with the
# same interface as the official apache/kafka image: every KAFKA_* variable
# becomes a server property (prefix dropped, lowercased, "___" -> "-",
# "__" -> "_", "_" -> "."), and CLUSTER_ID names the KRaft cluster the
# storage is formatted for. Without any KAFKA_* property it runs the
# official image's default: one combined broker+controller on localhost:9092.
set -euo pipefail

KAFKA_HOME=/opt/kafka
conf=$KAFKA_HOME/config/server.properties
mkdir -p "$KAFKA_HOME/config"

# JVM settings that share the KAFKA_ prefix but are not properties.
not_properties=" KAFKA_HEAP_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_JMX_OPTS KAFKA_GC_LOG_OPTS KAFKA_DEBUG KAFKA_VERSION KAFKA_HOME "

props=""
for var in $(compgen -e); do
  [[ $var == KAFKA_* ]] || continue
  [[ $not_properties == *" $var "* ]] && continue
  name=${var#KAFKA_}
  name=${name,,}
  name=${name//___/-}
  name=${name//__/@}
  name=${name//_/.}
  name=${name//@/_}
  props+="$name=${!var}"$'\n'
done

if [[ -z $props ]]; then
  props='node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.voters=1@localhost:9093
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
'
fi
[[ $props == *"log.dirs="* ]] || props+="log.dirs=/var/lib/kafka/data"$'\n'
printf '%s' "$props" > "$conf"

: "${CLUSTER_ID:=5L6g3nShT-eMCtK--X86sw}"
cp="$KAFKA_HOME/libs/*"
log4j="-Dlog4j2.configurationFile=$KAFKA_HOME/config/log4j2.properties"

java $log4j -cp "$cp" kafka.tools.StorageTool format --ignore-formatted \
  --cluster-id "$CLUSTER_ID" --config "$conf"

exec java ${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true} \
  ${KAFKA_OPTS:-} $log4j -cp "$cp" kafka.Kafka "$conf"
