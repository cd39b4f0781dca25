package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A Cluster is N Apache Kafka nodes, each a combined broker and KRaft
// controller in its own container with host networking, every listener on
// 127.0.0.1 at a port picked free, replicating everything three ways with
// min.insync.replicas 2 (fewer nodes lower both). Each node has:
//
//   - CONTROLLER: the KRaft quorum's traffic;
//   - INTERNAL: replication between brokers;
//   - DIRECT: clients that must not be disturbed (producers, verifiers,
//     the test's admin client);
//   - S0, S1, ...: one client listener per slot, for one processor
//     instance each, advertised at the slot's proxy address
//     (Node.Slots[i].Proxy) rather than its own, so that a client that
//     bootstraps there reaches every broker through the slot's proxies
//     (see Faults) and nothing else. Controller and inter-broker traffic
//     never crosses a proxy.
//
// Nodes are numbered from 1 (their node.id); Node(id) finds one. Kill and
// Restart bounce a node hard, keeping its data.
type Cluster struct {
	nodes []*Node
	id    string
	cl    *kgo.Client // on the DIRECT listeners
	adm   *kadm.Client
}

// A Node is one broker+controller of a Cluster.
type Node struct {
	ID         int32
	Direct     string // DIRECT listener, host:port
	Internal   string // INTERNAL listener
	Controller string // CONTROLLER listener
	// Slots are the per-instance client listeners: the broker listens on
	// Listen and advertises Proxy.
	Slots []Slot

	ctr *testcontainers.DockerContainer
}

// A Slot is one per-instance client listener of a node.
type Slot struct {
	Listen string // where the broker listens
	Proxy  string // where it says it is: the slot's proxy in front of Listen
}

// ClusterConfig sizes a cluster.
type ClusterConfig struct {
	// Nodes is the number of broker+controller nodes (default 3).
	Nodes int
	// Slots is the number of per-instance client listeners per node
	// (default 0: only DIRECT).
	Slots int
}

// Cluster-wide settings: three replicas of everything where there are three
// nodes, and a write must reach two of them.
const (
	clusterReplicas = 3
	clusterMinISR   = 2
	// transactionVersion is the finalized transaction.version the cluster
	// must run (KIP-890): epoch bumps on every transaction, no
	// AddPartitionsToTxn.
	transactionVersion = 2
	clusterStartBound  = 3 * time.Minute
)

// ErrTransactionVersion is returned by StartCluster when the cluster does not
// finalize transaction.version 2: the campaign would test the wrong protocol.
var ErrTransactionVersion = errors.New("the cluster does not run transaction.version 2 (KIP-890); " +
	"check the image's Kafka version (4.0 or newer formats it by default)")

// StartCluster starts the nodes together (a KRaft quorum forms only with a
// majority up), waits until every broker is registered and answers, and
// checks through the admin API that transaction.version 2 is finalized.
// Terminate removes it.
func StartCluster(ctx context.Context, cfg ClusterConfig) (_ *Cluster, err error) {
	if cfg.Nodes <= 0 {
		cfg.Nodes = 3
	}
	if err := checkDocker(ctx); err != nil {
		return nil, err
	}
	perNode := 3 + 2*cfg.Slots
	ports, err := freePorts(cfg.Nodes * perNode)
	if err != nil {
		return nil, fmt.Errorf("picking cluster ports: %w", err)
	}
	c := &Cluster{id: newClusterID()}
	var voters []string
	for i := range cfg.Nodes {
		p := ports[i*perNode:]
		n := &Node{
			ID:         int32(i + 1),
			Controller: addr(p[0]),
			Internal:   addr(p[1]),
			Direct:     addr(p[2]),
		}
		for s := range cfg.Slots {
			n.Slots = append(n.Slots, Slot{Listen: addr(p[3+2*s]), Proxy: addr(p[4+2*s])})
		}
		c.nodes = append(c.nodes, n)
		voters = append(voters, fmt.Sprintf("%d@%s", n.ID, n.Controller))
	}
	defer func() {
		if err != nil {
			c.Terminate(context.WithoutCancel(ctx))
		}
	}()

	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = c.run(ctx, n, strings.Join(voters, ","), cfg.Nodes) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...))
	if err != nil {
		return nil, err
	}
	c.cl, c.adm = cl, kadm.NewClient(cl)
	startCtx, cancel := context.WithTimeout(ctx, clusterStartBound)
	defer cancel()
	for _, n := range c.nodes {
		if err := c.awaitNode(startCtx, n); err != nil {
			return nil, err
		}
	}
	// A node that has just started may answer before it has loaded the
	// finalized features; give them a moment.
	var v int16
	for end := time.Now().Add(30 * time.Second); ; {
		v, err = c.TransactionVersion(startCtx)
		if err == nil && v == transactionVersion || time.Now().After(end) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the finalized features: %w", err)
	}
	if v != transactionVersion {
		return nil, fmt.Errorf("%w: transaction.version is %d (finalized: %s)", ErrTransactionVersion, v, c.finalized(startCtx))
	}
	return c, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// newClusterID is a KRaft cluster id: 16 random bytes, base64url. It never
// starts with '-' (one id in 64 would), which kafka-storage's argument
// parser takes for an option: "--cluster-id: expected one argument".
func newClusterID() string {
	b := make([]byte, 16)
	for {
		rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// run creates and starts node n's container; it does not wait for the
// broker (which needs the quorum, so the other nodes).
func (c *Cluster) run(ctx context.Context, n *Node, voters string, nodes int) error {
	replicas, minISR := min(clusterReplicas, nodes), min(clusterMinISR, nodes)
	listeners := []string{"CONTROLLER://" + n.Controller, "INTERNAL://" + n.Internal, "DIRECT://" + n.Direct}
	advertised := []string{"INTERNAL://" + n.Internal, "DIRECT://" + n.Direct}
	protocols := []string{"CONTROLLER:PLAINTEXT", "INTERNAL:PLAINTEXT", "DIRECT:PLAINTEXT"}
	for i, s := range n.Slots {
		name := "S" + strconv.Itoa(i)
		listeners = append(listeners, name+"://"+s.Listen)
		advertised = append(advertised, name+"://"+s.Proxy)
		protocols = append(protocols, name+":PLAINTEXT")
	}
	r, m := strconv.Itoa(replicas), strconv.Itoa(minISR)
	env := map[string]string{
		"CLUSTER_ID":                                             c.id,
		"KAFKA_NODE_ID":                                          strconv.Itoa(int(n.ID)),
		"KAFKA_PROCESS_ROLES":                                    "broker,controller",
		"KAFKA_LISTENERS":                                        strings.Join(listeners, ","),
		"KAFKA_ADVERTISED_LISTENERS":                             strings.Join(advertised, ","),
		"KAFKA_CONTROLLER_LISTENER_NAMES":                        "CONTROLLER",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":                   strings.Join(protocols, ","),
		"KAFKA_INTER_BROKER_LISTENER_NAME":                       "INTERNAL",
		"KAFKA_CONTROLLER_QUORUM_VOTERS":                         voters,
		"KAFKA_DEFAULT_REPLICATION_FACTOR":                       r,
		"KAFKA_MIN_INSYNC_REPLICAS":                              m,
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 r,
		"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "6",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         r,
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    m,
		"KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS":             "6",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": r,
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            m,
		"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
		"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                        "false",
		// A restarted node must not lead until it has caught up;
		// unclean election would lose committed records.
		"KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE": "false",
		"KAFKA_LOG_DIRS":                       "/tmp/kraft-combined-logs",
		"KAFKA_HEAP_OPTS":                      "-Xms256m -Xmx640m",
	}
	ctr, err := testcontainers.Run(ctx, Image(),
		testcontainers.WithEnv(env),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
		}),
	)
	n.ctr = ctr
	if err != nil {
		return fmt.Errorf("starting kafka node %d from image %s (build it with `make kafka-image`): %w", n.ID, Image(), err)
	}
	return nil
}

// awaitNode waits until n answers on its DIRECT listener and the cluster's
// metadata, as n sees it, lists every node.
func (c *Cluster) awaitNode(ctx context.Context, n *Node) error {
	for {
		if state, err := n.ctr.State(ctx); err == nil && !state.Running {
			return fmt.Errorf("kafka node %d stopped (exit code %d); its log:\n%s", n.ID, state.ExitCode, tail(containerLogs(ctx, n.ctr), 40))
		}
		err := c.pingNode(ctx, n)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka node %d at %s did not become ready: %v (%w); its log:\n%s", n.ID, n.Direct, err, ctx.Err(),
				tail(containerLogs(context.WithoutCancel(ctx), n.ctr), 40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) pingNode(ctx context.Context, n *Node) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Direct), kgo.DialTimeout(time.Second), kgo.RequestRetries(0))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	resp, err := req.RequestWith(ctx, cl) // a new client knows only its seed
	if err != nil {
		return err
	}
	if len(resp.Brokers) != len(c.nodes) {
		return fmt.Errorf("node %d knows %d of %d brokers", n.ID, len(resp.Brokers), len(c.nodes))
	}
	return nil
}

// Nodes returns the nodes in id order.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Node returns the node with the given id, or nil.
func (c *Cluster) Node(id int32) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Bootstrap returns every node's DIRECT address.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.Direct)
	}
	return out
}

// SlotBootstrap returns every node's advertised address of slot i: the
// bootstrap servers of the instance that uses the slot.
func (c *Cluster) SlotBootstrap(i int) []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.Slots[i].Proxy)
	}
	return out
}

// Admin is the cluster's admin client on the DIRECT listeners; the cluster
// closes it.
func (c *Cluster) Admin() *kadm.Client { return c.adm }

// Client returns a client on the DIRECT listeners with opts added; close it.
func (c *Cluster) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap()...)}, opts...)...)
}

// CreateTopic creates topic with the cluster's replication factor.
func (c *Cluster) CreateTopic(ctx context.Context, topic string, partitions int32, configs map[string]*string) error {
	resp, err := c.adm.CreateTopic(ctx, partitions, int16(min(clusterReplicas, len(c.nodes))), configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

// Kill kills node id's broker hard (docker kill -s KILL), keeping its data,
// and waits until its container has stopped.
func (c *Cluster) Kill(ctx context.Context, id int32) error {
	n := c.Node(id)
	if n == nil {
		return fmt.Errorf("killing node %d: no such node", id)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("killing node %d: %w", id, err)
	}
	defer cli.Close()
	if _, err := cli.ContainerKill(ctx, n.ctr.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("killing node %d: %w", id, err)
	}
	for {
		state, err := n.ctr.State(ctx)
		if err == nil && !state.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d still running after docker kill: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Restart starts a killed node's container again, with the data it had, and
// waits until it answers and sees every broker. It may still be catching up
// as a follower: AwaitInSync waits for that.
func (c *Cluster) Restart(ctx context.Context, id int32) error {
	n := c.Node(id)
	if n == nil {
		return fmt.Errorf("restarting node %d: no such node", id)
	}
	if err := n.ctr.Start(ctx); err != nil {
		return fmt.Errorf("restarting node %d: %w", id, err)
	}
	return c.awaitNode(ctx, n)
}

// internalTopics are the internal topics the processor relies on; the
// brokers create them on first use.
var internalTopics = []string{"__consumer_offsets", "__transaction_state"}

// AwaitInSync waits until every partition of topics and of the internal
// topics that exist has all its replicas in sync, so that the next node to
// go down leaves at least min.insync.replicas of each.
func (c *Cluster) AwaitInSync(ctx context.Context, topics ...string) error {
	all := append(slices.Clone(topics), internalTopics...)
	last := "no metadata yet"
	for {
		md, err := c.adm.Metadata(ctx, all...)
		if err != nil {
			last = err.Error()
		} else if lag := underReplicated(md, topics); lag == "" {
			return nil
		} else {
			last = lag
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replicas not in sync: %s: %w", last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// underReplicated describes the partitions of topics and of the internal
// topics in md that lack a leader or an in-sync replica.
func underReplicated(md kadm.Metadata, topics []string) string {
	var out []string
	for _, topic := range append(slices.Clone(topics), internalTopics...) {
		td, ok := md.Topics[topic]
		if slices.Contains(internalTopics, topic) && (!ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition)) {
			continue // not created yet
		}
		if !ok || td.Err != nil || len(td.Partitions) == 0 {
			out = append(out, fmt.Sprintf("%s: no metadata (%v)", topic, td.Err))
			continue
		}
		for _, p := range td.Partitions.Sorted() {
			if p.Err != nil || p.Leader < 0 || len(p.ISR) < len(p.Replicas) {
				out = append(out, fmt.Sprintf("%s/%d: leader %d isr %v of %v", topic, p.Partition, p.Leader, p.ISR, p.Replicas))
			}
		}
	}
	return strings.Join(out, "; ")
}

// Leader returns the node leading topic's partition.
func (c *Cluster) Leader(ctx context.Context, topic string, partition int32) (int32, error) {
	md, err := c.adm.Metadata(ctx, topic)
	if err != nil {
		return -1, fmt.Errorf("reading metadata of %s: %w", topic, err)
	}
	p, ok := md.Topics[topic].Partitions[partition]
	if !ok || p.Err != nil || p.Leader < 0 {
		return -1, fmt.Errorf("%s/%d has no leader (%v)", topic, partition, p.Err)
	}
	return p.Leader, nil
}

// GroupCoordinator returns the node coordinating group. It waits (bounded
// by ctx) while there is none, as right after a coordinator died or before
// __consumer_offsets exists.
func (c *Cluster) GroupCoordinator(ctx context.Context, group string) (int32, error) {
	return c.coordinator(ctx, c.adm.FindGroupCoordinators, "group", group)
}

// TxnCoordinator returns the node coordinating transactional id txnID,
// waiting as GroupCoordinator does.
func (c *Cluster) TxnCoordinator(ctx context.Context, txnID string) (int32, error) {
	return c.coordinator(ctx, c.adm.FindTxnCoordinators, "transactional id", txnID)
}

func (c *Cluster) coordinator(ctx context.Context, find func(context.Context, ...string) kadm.FindCoordinatorResponses, kind, name string) (int32, error) {
	for {
		r, ok := find(ctx, name)[name]
		err := r.Err
		if !ok {
			err = errors.New("no answer")
		}
		if err == nil {
			return r.NodeID, nil
		}
		if !kerr.IsRetriable(err) && ok {
			return -1, fmt.Errorf("finding the coordinator of %s %s: %w", kind, name, err)
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("finding the coordinator of %s %s: %w (%w)", kind, name, err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ElectPreferredLeaders elects every partition's preferred replica leader
// where it is not, and returns how many partitions moved.
func (c *Cluster) ElectPreferredLeaders(ctx context.Context) (int, error) {
	res, err := c.adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil {
		return 0, fmt.Errorf("electing preferred leaders: %w", err)
	}
	moved := 0
	for _, ps := range res {
		for _, r := range ps {
			switch {
			case r.Err == nil:
				moved++
			case !errors.Is(r.Err, kerr.ElectionNotNeeded):
				return moved, fmt.Errorf("electing the preferred leader of %s/%d: %w", r.Topic, r.Partition, r.Err)
			}
		}
	}
	return moved, nil
}

// QuorumLeader returns the node leading the KRaft controller quorum
// (DescribeQuorum on the metadata partition).
func (c *Cluster) QuorumLeader(ctx context.Context) (int32, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rp := kmsg.NewDescribeQuorumRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return -1, fmt.Errorf("describing the quorum: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return -1, fmt.Errorf("describing the quorum: %w", err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return -1, fmt.Errorf("describing the quorum: %w", err)
			}
			if p.LeaderID >= 0 {
				return p.LeaderID, nil
			}
		}
	}
	return -1, errors.New("describing the quorum: no leader")
}

// TransactionVersion returns the finalized transaction.version every node
// reports (ApiVersions' finalized features); it is an error if nodes
// disagree.
func (c *Cluster) TransactionVersion(ctx context.Context) (int16, error) {
	got := int16(-1)
	for _, n := range c.nodes {
		req := kmsg.NewPtrApiVersionsRequest()
		// Required from v3; only requests through the client, not to a
		// named broker, get them filled in.
		req.ClientSoftwareName, req.ClientSoftwareVersion = "event-processor-integration", "1"
		resp, err := req.RequestWith(ctx, c.cl.Broker(int(n.ID)))
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			return -1, fmt.Errorf("node %d: %w", n.ID, err)
		}
		v := int16(0) // a feature not finalized is at level 0
		for _, f := range resp.FinalizedFeatures {
			if f.Name == "transaction.version" {
				v = f.MaxVersionLevel
			}
		}
		if got >= 0 && v != got {
			return -1, fmt.Errorf("nodes disagree on transaction.version: %d and %d", got, v)
		}
		got = v
	}
	return got, nil
}

// finalized lists the finalized features as name=level, for messages.
func (c *Cluster) finalized(ctx context.Context) string {
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, c.cl)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, f := range resp.FinalizedFeatures {
		out = append(out, fmt.Sprintf("%s=%d", f.Name, f.MaxVersionLevel))
	}
	return fmt.Sprintf("ApiVersions v%d: %s", resp.Version, strings.Join(out, " "))
}

// Logs returns node id's log so far.
func (c *Cluster) Logs(ctx context.Context, id int32) string {
	if n := c.Node(id); n != nil && n.ctr != nil {
		return containerLogs(ctx, n.ctr)
	}
	return ""
}

// Terminate removes every node's container.
func (c *Cluster) Terminate(ctx context.Context) error {
	if c.adm != nil {
		c.adm.Close()
	}
	var errs []error
	for _, n := range c.nodes {
		if n.ctr != nil {
			errs = append(errs, n.ctr.Terminate(ctx))
		}
	}
	return errors.Join(errs...)
}
