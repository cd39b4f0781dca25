# make test              vet, unit tests (-race), the real-broker integration tests and bench-smoke
# make unit-test         only what needs no Docker
# make integration-test  only the container tests (needs a running Docker engine)
# make kafka-image       build the local Apache Kafka image if it is missing
# make kafka-up          one local Kafka node on 127.0.0.1:9092 to try the processor on (kafka-down removes it)
# make build             the binaries, into bin/
# make bench-smoke       every benchmark contender on a tiny input, results verified (about a minute; part of test)
# make bench-latency     latency at fixed rates, throughput, CPU and memory of every contender (about 25 min, after up to 40 min waiting for a quiet machine; docs/benchmarks.md)
# make bench-kafka       event-processor vs at-least-once vs Kafka Streams on one real broker
# make bench-verify      ktool verify on 1,000,000 inputs: wall time, CPU and peak RSS
# make chaos             the long fault campaign on a 3-node cluster (CHAOS_EVENTS, CHAOS_ROUNDS, CHAOS_SEED, CHAOS_FAULTS, CHAOS_LOGS; docs/reliability.md)
# make soak              one processor committing continuously for SOAK_DURATION (default 60m), through producer epoch exhaustion
# make image             the container image, FROM scratch, no registry needed (IMAGE=name:tag, default event-processor:dev)
# make image-multistage  the same from the multi-stage Dockerfile (pulls a Go image and a base)
# make helm-lint         lint and render the Helm chart (HELM=path to helm)
# make promtool-test     check and unit-test the chart's alerting rules (PROMTOOL=path to promtool)
# make k8s-test          the chart on a real single-node Kubernetes with Helm 3 and 4 (root; docs/kubernetes.md)
# make k8s-up            that cluster on 127.0.0.1, to try the chart on (k8s-down removes it)

GO       ?= go
GOFLAGS  ?=
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /integration)

# Read once, before the first testcontainers call: Ryuk cannot be pulled here
# (containers are removed by the tests and by .ci/run), and the host is
# always loopback because every container uses host networking.
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1

.PHONY: test vet unit-test integration-test kafka-image kafka-up kafka-down docker-check build fuzz bench bench-smoke bench-latency bench-kafka bench-verify image image-multistage helm-lint promtool-test

test: vet unit-test integration-test bench-smoke

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

unit-test:
	$(GO) test -race -count=1 $(UNIT_PKGS)

integration-test: docker-check kafka-image
	$(GO) test -race -count=1 -timeout 30m ./integration/...

kafka-image: docker-check
	bash integration/kafka-image/build.sh

kafka-up: docker-check kafka-image
	bash integration/kafka-image/local.sh up

kafka-down:
	bash integration/kafka-image/local.sh down

docker-check:
	@docker info >/dev/null 2>&1 || { \
	  echo "The integration tests need a running Docker engine and none answers."; \
	  echo "Start one (dockerd --iptables=false --ip6tables=false &), or run 'bash .ci/run', which installs and starts it."; \
	  exit 1; }

build:
	$(GO) build -o bin/ ./cmd/...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzTransform -fuzztime=3m ./schema/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 ./schema/

# The latency benchmark in miniature: every Go contender (and Kafka Streams
# when its jar is built; it skips, saying so, otherwise) at 1,000 events/s
# for 2 s and on a 5,000-event backlog, every result verified.
bench-smoke: docker-check kafka-image
	$(GO) test -count=1 -run='^$$' -bench=Smoke -benchtime=1x -timeout 10m ./bench/

# The recorded run of docs/benchmarks.md: every contender at every rate and
# on a backlog, 3 rounds, then the scale runs; writes bench/results/ and
# the page's tables. About 25 minutes of measuring, after waiting up to 40
# minutes for a quiet machine (load average under 1.5, no compiler running).
bench-latency: docker-check kafka-image
	cd bench/streams && mvn -q -B package
	$(GO) test -v -count=1 -run='^$$' -bench=Latency -benchtime=1x -timeout 3h ./bench/
	$(GO) run ./bench/cmd/report

# Side by side on one real broker; see docs/benchmarks.md. Not part of test.
bench-kafka: docker-check kafka-image
	cd bench/streams && mvn -q -B package
	$(GO) test -v -run='^$$' -bench=SideBySide -benchtime=1x -timeout 60m ./bench/

# ktool verify at volume; see docs/ktool.md. Not part of test.
bench-verify: docker-check kafka-image
	$(GO) test -v -run='^$$' -bench=KtoolVerify -benchtime=1x -timeout 30m ./bench/

# The long fault campaign: the short one's code (TestChaos/Campaign), sized
# up and seeded; replay a run with its CHAOS_SEED. See docs/reliability.md.
CHAOS_EVENTS ?= 1000000
CHAOS_ROUNDS ?= 10
CHAOS_RATE   ?= 50
CHAOS_SEED   ?= 1
CHAOS_FAULTS ?=
CHAOS_LOGS   ?=
.PHONY: chaos
chaos: docker-check kafka-image
	CHAOS_EVENTS=$(CHAOS_EVENTS) CHAOS_ROUNDS=$(CHAOS_ROUNDS) CHAOS_RATE=$(CHAOS_RATE) CHAOS_SEED=$(CHAOS_SEED) \
	  CHAOS_FAULTS=$(CHAOS_FAULTS) CHAOS_LOGS=$(CHAOS_LOGS) \
	  $(GO) test -v -count=1 -timeout 4h -run 'TestChaos/Campaign' ./integration/

# One processor on a steady light input for SOAK_DURATION: continuous
# commits, through producer epoch exhaustion (TestSoak; docs/reliability.md).
SOAK_DURATION ?= 60m
SOAK_BATCH    ?= 10
SOAK_EVERY    ?= 50ms
.PHONY: soak
soak: docker-check kafka-image
	SOAK_DURATION=$(SOAK_DURATION) SOAK_BATCH=$(SOAK_BATCH) SOAK_EVERY=$(SOAK_EVERY) \
	  $(GO) test -v -count=1 -timeout 4h -run '^TestSoak$$' ./integration/

IMAGE ?= event-processor:dev
HELM  ?= helm

# Static binaries from the local Go toolchain (-tags nodemo: no embedded demo
# broker) on an image assembled FROM scratch; pulls nothing. TestImage builds
# its image with the same script.
image: docker-check
	IMAGE=$(IMAGE) GO=$(GO) bash image/build.sh

# For builders with registry access: golang and distroless images.
image-multistage: docker-check
	docker build -t $(IMAGE) .

# Lints the chart, renders it with and without the optional objects, and
# checks that the values schema refuses a bad value and an unknown key.
OPTIONAL := serviceMonitor.enabled=true,keda.enabled=true,grafanaDashboard.enabled=true,prometheusRule.enabled=true
SECURED  := kafka.tls.caSecret.name=my-cluster-cluster-ca-cert,kafka.tls.clientSecret.name=ep,kafka.sasl.mechanism=SCRAM-SHA-512,kafka.sasl.username=ep,kafka.sasl.passwordSecret.name=ep
helm-lint:
	$(HELM) lint --strict helm/event-processor
	$(HELM) lint --strict helm/event-processor --set $(OPTIONAL)
	$(HELM) template t helm/event-processor >/dev/null
	$(HELM) template t helm/event-processor --set $(OPTIONAL) >/dev/null
	$(HELM) lint --strict helm/event-processor --set $(SECURED)
	$(HELM) lint --strict helm/event-processor --set hostNetwork=true,portPerPod=true,replicaCount=3,transaction.linger=20ms
	! $(HELM) template t helm/event-processor --set transaction.linger=soon >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set kafka.sasl.mechanism=GSSAPI >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set kafka.tls.unknownKey=1 >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set log.level=verbose >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set unknownKey=1 >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set prometheusRule.unknownKey=1 >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set prometheusRule.errorEvents.ratio=2 >/dev/null 2>&1
	! $(HELM) template t helm/event-processor --set grafanaDashboard.unknownKey=1 >/dev/null 2>&1

PROMTOOL ?= promtool

# The PrometheusRule's rules checked and unit-tested (helm/promtool/) on the
# chart rendered as release ep; TestChartRules runs the same.
promtool-test:
	@work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; set -e; \
	$(HELM) template ep helm/event-processor --set prometheusRule.enabled=true \
	  --show-only templates/prometheusrule.yaml >"$$work/rendered.yaml"; \
	sed -n '/^spec:/,$$p' "$$work/rendered.yaml" | sed '1d; s/^  //' >"$$work/rules.yaml"; \
	cp helm/promtool/rules.test.yaml "$$work/"; \
	$(PROMTOOL) check rules "$$work/rules.yaml"; \
	cd "$$work" && $(PROMTOOL) test rules rules.test.yaml

# The chart installed with Helm on a real single-node Kubernetes, no registry
# (docs/kubernetes.md): install, scale 1 -> 3 -> 1, a hung pod deleted,
# upgrade, uninstall, exactly-once checked after each, with Helm 3 ($HELM)
# and Helm 4 ($HELM4). Needs root. k8s/build.sh builds the cluster's
# binaries once into a cache (about 15 min cold, nothing when built). Not part
# of test: .ci/run runs it after test.
.PHONY: k8s-test k8s-up k8s-down
k8s-test: docker-check kafka-image
	bash k8s/build.sh >/dev/null
	$(GO) test -tags k8s -race -count=1 -timeout 40m -v -run '^TestKubernetes$$' ./integration/

k8s-up:
	bash k8s/build.sh >/dev/null
	bash k8s/cluster.sh up

k8s-down:
	bash k8s/cluster.sh down
