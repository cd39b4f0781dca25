package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testCluster checks the cluster harness: the protocol and replication it
// promises, that it can name the node to kill for each role, that slot
// listeners advertise their proxies, and that a hard-killed node comes back
// with its data while the other two keep accepting writes.
func testCluster(t *testing.T, c *Cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if v, err := c.TransactionVersion(ctx); err != nil || v != transactionVersion {
		t.Fatalf("transaction.version = %d (%v), want %d", v, err, transactionVersion)
	}
	ids := []int32{1, 2, 3}
	inCluster := func(what string, id int32, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !slices.Contains(ids, id) {
			t.Fatalf("%s is node %d, not one of %v", what, id, ids)
		}
		t.Logf("%s: node %d", what, id)
	}
	id, err := c.QuorumLeader(ctx)
	inCluster("controller quorum leader", id, err)
	id, err = c.GroupCoordinator(ctx, "cluster-check-group")
	inCluster("group coordinator", id, err)
	id, err = c.TxnCoordinator(ctx, "cluster-check-txn")
	inCluster("transaction coordinator", id, err)

	const topic = "cluster-check"
	if err := c.CreateTopic(ctx, topic, 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AwaitInSync(ctx, topic); err != nil {
		t.Fatal(err)
	}
	md, err := c.Admin().Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics[topic].Partitions.Sorted() {
		if len(p.Replicas) != clusterReplicas {
			t.Errorf("%s/%d has replicas %v, want %d", topic, p.Partition, p.Replicas, clusterReplicas)
		}
	}
	for _, internal := range []string{"__consumer_offsets", "__transaction_state"} {
		md, err := c.Admin().Metadata(ctx, internal)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range md.Topics[internal].Partitions.Sorted() {
			if len(p.Replicas) != clusterReplicas {
				t.Errorf("%s/%d has replicas %v, want %d", internal, p.Partition, p.Replicas, clusterReplicas)
			}
		}
	}
	// Kafka 4 also writes the cluster's min.insync.replicas as a dynamic
	// default (for eligible leader replicas); until that record is
	// applied the topic's value may read empty.
	var isr string
	for end := time.Now().Add(30 * time.Second); isr != fmt.Sprint(clusterMinISR) && time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		cfgs, err := c.Admin().DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		v, err := cfgs.On(topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		isr = configValue(v, "min.insync.replicas")
	}
	if isr != fmt.Sprint(clusterMinISR) {
		t.Errorf("min.insync.replicas of %s is %q, want %d", topic, isr, clusterMinISR)
	}
	checkSlotAdvertised(t, c)

	cl, err := c.Client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(from, n int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Partition: 0, Value: fmt.Appendf(nil, "%d", i)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing with acks=all: %v", err)
		}
	}
	produce(0, 300)

	victim, err := c.Leader(ctx, topic, 0)
	inCluster("leader of "+topic+"/0", victim, err)
	if err := c.Kill(ctx, victim); err != nil {
		t.Fatal(err)
	}
	produce(300, 300) // two of three replicas in sync: min.insync.replicas holds
	if now, err := c.Leader(ctx, topic, 0); err != nil || now == victim {
		t.Errorf("after node %d was killed the leader of %s/0 is %d (%v)", victim, topic, now, err)
	}
	if err := c.Restart(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := c.AwaitInSync(ctx, topic); err != nil {
		t.Fatalf("after restarting node %d: %v", victim, err)
	}
	dirs, err := c.Admin().DescribeBrokerLogDirs(ctx, victim, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.EachPartition(func(p kadm.DescribedLogDirPartition) { size += p.Size })
	if size == 0 {
		t.Errorf("restarted node %d holds no data of %s/0", victim, topic)
	}
	recs, err := ReadAll(ctx, c.Nodes()[0].Direct, topic, kgo.ReadCommitted())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 600 {
		t.Errorf("read %d records back after the bounce, want 600", len(recs))
	}
}

func configValue(rc kadm.ResourceConfig, name string) string {
	for _, c := range rc.Configs {
		if c.Key == name {
			return c.MaybeValue()
		}
	}
	return ""
}

// checkSlotAdvertised asks a node on each slot's own listener for metadata:
// every broker must be listed at its proxy address for that slot, so a
// client bootstrapped there stays behind the slot's proxies.
func checkSlotAdvertised(t *testing.T, c *Cluster) {
	t.Helper()
	for s := range c.Nodes()[0].Slots {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Nodes()[0].Slots[s].Listen))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(t.Context(), cl)
		cl.Close()
		if err != nil {
			t.Fatalf("metadata on slot %d: %v", s, err)
		}
		for _, b := range resp.Brokers {
			want := c.Node(b.NodeID).Slots[s].Proxy
			if got := fmt.Sprintf("%s:%d", b.Host, b.Port); got != want {
				t.Errorf("slot %d: node %d is advertised at %s, want its proxy %s", s, b.NodeID, got, want)
			}
		}
	}
}

// testFaults checks the proxies: a client on slot 0 works through them,
// latency slows it, a blackhole stalls it past its request timeout, and
// with the proxies down it cannot connect, while the DIRECT listeners are
// untouched; afterwards it works again.
func testFaults(t *testing.T, c *Cluster, f *Faults) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.SlotBootstrap(0)...), kgo.RequestRetries(0),
		kgo.RetryTimeout(time.Second), kgo.DialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ask := func(timeout time.Duration) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		// ListOffsets, unlike metadata, is never answered from a cache.
		listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, "cluster-check")
		if err == nil {
			err = listed.Error()
		}
		return time.Since(start), err
	}
	direct := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if _, err := c.Admin().ListBrokers(ctx); err != nil {
			t.Errorf("the DIRECT listeners fail while slot 0 is faulty: %v", err)
		}
	}
	if _, err := ask(10 * time.Second); err != nil {
		t.Fatalf("through slot 0's proxies: %v", err)
	}

	lat := Latency("downstream", 400, 50)
	if err := f.Add(0, nil, lat); err != nil {
		t.Fatal(err)
	}
	d, err := ask(10 * time.Second)
	if err != nil || d < 300*time.Millisecond {
		t.Errorf("with 400ms latency a request took %s (%v), want at least 300ms", d, err)
	}
	direct()
	if err := f.Remove(0, nil, lat); err != nil {
		t.Fatal(err)
	}

	hole := []Toxic{Blackhole("upstream"), Blackhole("downstream")}
	if err := f.Add(0, nil, hole...); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(2 * time.Second); err == nil {
		t.Error("a request through a blackhole succeeded")
	}
	direct()
	if err := f.Remove(0, nil, hole...); err != nil {
		t.Fatal(err)
	}

	if err := f.Down(0); err != nil {
		t.Fatal(err)
	}
	down, err := kgo.NewClient(kgo.SeedBrokers(c.SlotBootstrap(0)...), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	_, err = kadm.NewClient(down).ListBrokers(ctx) // a new client has nothing cached
	cancel()
	down.Close()
	if err == nil {
		t.Error("a new client reached the brokers through proxies that are down")
	}
	direct()
	if err := f.Up(0); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(15 * time.Second); err != nil {
		t.Errorf("after the faults were removed, through slot 0's proxies: %v", err)
	}
}
