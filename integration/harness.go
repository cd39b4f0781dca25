// Package integration runs the project's tests against a real Apache Kafka
// broker: one combined broker+controller KRaft node in a container started
// through testcontainers-go, with host networking and every listener on
// 127.0.0.1.
//
// The image is $KAFKA_IMAGE, by default the locally built
// event-processor/kafka:<version> (see kafka-image/ and `make kafka-image`).
// It has the env-var interface of the official apache/kafka image, so
// KAFKA_IMAGE=apache/kafka:<version> runs the same tests where a registry is
// reachable.
//
// Docker must be running. Set TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (the Makefile does); containers carry
// the label org.testcontainers=true so leftovers can be removed.
package integration

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

//go:embed kafka-image/VERSION
var kafkaVersion string

// KafkaVersion is the Apache Kafka release the local image is built from;
// kafka-image/VERSION is the one place it is pinned.
func KafkaVersion() string { return strings.TrimSpace(kafkaVersion) }

// Image is the broker image the harness runs: $KAFKA_IMAGE or the local
// default.
func Image() string {
	if img := os.Getenv("KAFKA_IMAGE"); img != "" {
		return img
	}
	return "event-processor/kafka:" + KafkaVersion()
}

// ErrNoDocker is returned by StartBroker when no Docker engine answers.
var ErrNoDocker = errors.New("no Docker engine is running: the integration tests need one " +
	"(start dockerd, or run `bash .ci/run` which installs and starts it)")

// Broker is one running Kafka node.
type Broker struct {
	// Addr is the bootstrap address, 127.0.0.1:<port>.
	Addr string

	ctr *testcontainers.DockerContainer
}

// StartBroker starts a broker container and waits until it answers Kafka
// requests. Stop it with Terminate.
func StartBroker(ctx context.Context) (*Broker, error) {
	return StartBrokerWith(ctx, nil)
}

// StartBrokerWith is StartBroker with env's settings added to (or, with an
// empty value, removed from) the broker's environment: a test of a
// misconfigured broker, say.
func StartBrokerWith(ctx context.Context, envOverrides map[string]string) (*Broker, error) {
	if err := checkDocker(ctx); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("picking broker ports: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	controller := fmt.Sprintf("127.0.0.1:%d", ports[1])
	env := map[string]string{
		"CLUSTER_ID":                           "ep-integration-cluster0",
		"KAFKA_NODE_ID":                        "1",
		"KAFKA_PROCESS_ROLES":                  "broker,controller",
		"KAFKA_LISTENERS":                      "PLAINTEXT://" + addr + ",CONTROLLER://" + controller,
		"KAFKA_ADVERTISED_LISTENERS":           "PLAINTEXT://" + addr,
		"KAFKA_CONTROLLER_LISTENER_NAMES":      "CONTROLLER",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"KAFKA_INTER_BROKER_LISTENER_NAME":     "PLAINTEXT",
		"KAFKA_CONTROLLER_QUORUM_VOTERS":       "1@" + controller,
	}
	maps.Copy(env, singleNode)
	for k, v := range envOverrides {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	ctr, err := runKafka(ctx, env, addr)
	if err != nil {
		return nil, err
	}
	return &Broker{Addr: addr, ctr: ctr}, nil
}

// singleNode are the settings one node alone needs: replication factor 1
// for the internal topics, so that groups and transactions work, few
// partitions for them, no rebalance delay, no topic auto-creation.
var singleNode = map[string]string{
	"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
	"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "3",
	"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
	"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
	"KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS":             "3",
	"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
	"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
	"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
	"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                        "false",
	"KAFKA_LOG_DIRS":                                         "/tmp/kraft-combined-logs",
	"KAFKA_HEAP_OPTS":                                        "-Xms256m -Xmx768m",
}

// runKafka starts a broker container of Image() with env, host networking
// and binds ("host:container[:ro]"), and waits until the broker at
// readyAddr answers.
func runKafka(ctx context.Context, env map[string]string, readyAddr string, binds ...string) (*testcontainers.DockerContainer, error) {
	ctr, err := testcontainers.Run(ctx, Image(),
		testcontainers.WithEnv(env),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			hc.Binds = append(hc.Binds, binds...)
		}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute, kafkaReady{addr: readyAddr}),
	)
	if err != nil {
		if ctr != nil {
			_ = ctr.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("starting kafka container from image %s (build it with `make kafka-image`): %w", Image(), err)
	}
	return ctr, nil
}

// Stop stops the broker container, keeping its data, as a broker shutdown
// would. A timeout of zero kills it.
func (b *Broker) Stop(ctx context.Context, timeout time.Duration) error {
	return b.ctr.Stop(ctx, &timeout)
}

// Start starts a stopped broker again on the same address and waits until it
// answers.
func (b *Broker) Start(ctx context.Context) error {
	return b.ctr.Start(ctx) // runs the kafkaReady wait again
}

// Terminate removes the container.
func (b *Broker) Terminate(ctx context.Context) error {
	return b.ctr.Terminate(ctx)
}

// Logs returns the broker's log so far, for failure messages.
func (b *Broker) Logs(ctx context.Context) string {
	return containerLogs(ctx, b.ctr)
}

// Client returns a client for the broker with opts added; close it.
func (b *Broker) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, opts...)...)
}

// Admin returns an admin client for the broker; close it.
func (b *Broker) Admin() (*kadm.Client, error) {
	cl, err := b.Client()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// kafkaReady waits until the broker answers a metadata request listing
// itself, which works the same after a restart (a log wait would match the
// previous start's line).
type kafkaReady struct{ addr string }

func (k kafkaReady) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	for {
		if state, err := target.State(ctx); err == nil && !state.Running {
			return fmt.Errorf("kafka container stopped (exit code %d); its log:\n%s", state.ExitCode, tail(containerLogs(ctx, target), 40))
		}
		if err := ping(ctx, k.addr); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka at %s did not become ready: %w; its log:\n%s", k.addr, ctx.Err(), tail(containerLogs(context.WithoutCancel(ctx), target), 40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func ping(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(time.Second), kgo.RequestRetries(0))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		return err
	}
	if len(brokers) == 0 {
		return errors.New("no brokers registered yet")
	}
	return nil
}

func containerLogs(ctx context.Context, target interface {
	Logs(context.Context) (io.ReadCloser, error)
}) string {
	rc, err := target.Logs(ctx)
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func checkDocker(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return nil
}

// freePorts returns n distinct ports on 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		_, p, _ := net.SplitHostPort(l.Addr().String())
		port, _ := strconv.Atoi(p)
		ports = append(ports, port)
	}
	return ports, nil
}
