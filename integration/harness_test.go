package integration

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func admin(t *testing.T, b *Broker) *kadm.Client {
	t.Helper()
	adm, err := b.Admin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adm.Close)
	return adm
}

func newClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := b.Client(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestCreateTopicPartitions(t *testing.T) {
	adm := admin(t, broker)
	for _, n := range []int32{1, 3, 8} {
		topic := fmt.Sprintf("%s-%d", t.Name(), n)
		if err := CreateTopic(t.Context(), adm, topic, n, nil); err != nil {
			t.Fatal(err)
		}
		ends, err := verify.EndOffsets(t.Context(), adm, topic)
		if err != nil {
			t.Fatal(err)
		}
		if len(ends) != int(n) {
			t.Errorf("topic %s: got %d partitions, want %d", topic, len(ends), n)
		}
		details, err := adm.ListTopics(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(details[topic].Partitions); got != int(n) {
			t.Errorf("topic %s: metadata lists %d partitions, want %d", topic, got, n)
		}
	}
}

// TestTransactionVisibility commits one transaction of 100 records and aborts
// another: read_committed readers see exactly the committed ones,
// read_uncommitted readers see all.
func TestTransactionVisibility(t *testing.T) {
	ctx := t.Context()
	topic := t.Name()
	if err := CreateTopic(ctx, admin(t, broker), topic, 3, nil); err != nil {
		t.Fatal(err)
	}
	pr := newClient(t, broker, kgo.TransactionalID(t.Name()), kgo.DefaultProduceTopic(topic))

	produce := func(prefix string, commit kgo.TransactionEndTry) {
		t.Helper()
		if err := pr.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var rs []*kgo.Record
		for i := range 100 {
			rs = append(rs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, "%s-%d", prefix, i)})
		}
		if err := pr.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := pr.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	produce("committed", kgo.TryCommit)
	produce("aborted", kgo.TryAbort)

	committed, err := ReadAll(ctx, broker.Addr, topic, kgo.ReadCommitted())
	if err != nil {
		t.Fatal(err)
	}
	uncommitted, err := ReadAll(ctx, broker.Addr, topic, kgo.ReadUncommitted())
	if err != nil {
		t.Fatal(err)
	}

	want := make(map[string]bool)
	for i := range 100 {
		want[fmt.Sprintf("committed-%d", i)] = true
	}
	seen := make(map[string]int)
	for _, r := range committed {
		seen[string(r.Value)]++
	}
	for v, n := range seen {
		if !want[v] || n != 1 {
			t.Errorf("read_committed: record %q seen %d times, want it only if committed, once", v, n)
		}
	}
	if len(committed) != 100 || len(seen) != 100 {
		t.Errorf("read_committed: got %d records (%d distinct), want the 100 committed", len(committed), len(seen))
	}
	if len(uncommitted) != 200 {
		t.Errorf("read_uncommitted: got %d records, want all 200", len(uncommitted))
	}
}

// TestCommittedOffsetsSurviveRestart commits a group's offsets, restarts the
// broker container and finds the offsets and the records still there.
func TestCommittedOffsetsSurviveRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	b, err := StartBroker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Terminate(context.Background()) })

	const topic, group, n = "restart", "restart-group", 60
	adm := admin(t, b)
	if err := CreateTopic(ctx, adm, topic, 2, nil); err != nil {
		t.Fatal(err)
	}
	pr := newClient(t, b, kgo.DefaultProduceTopic(topic))
	for i := range n {
		if err := pr.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("r-%d", i))).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	before, err := ReadAll(ctx, b.Addr, topic, kgo.ReadCommitted())
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != n {
		t.Fatalf("before restart: read %d records, want %d", len(before), n)
	}

	// Commit the group's position at the record offsets themselves (not the
	// ends), so the restart is checked against distinctive values.
	offsets := make(kadm.Offsets)
	for _, r := range before {
		if cur, ok := offsets.Lookup(topic, r.Partition); !ok || r.Offset > cur.At {
			offsets.Add(kadm.Offset{Topic: topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
		}
	}
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("committing offsets: %v", err)
	}
	pr.Close()
	adm.Close()

	if err := b.Stop(ctx, 20*time.Second); err != nil {
		t.Fatalf("stopping broker: %v", err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("starting broker again: %v", err)
	}

	adm = admin(t, b)
	var fetched kadm.OffsetResponses
	// The group coordinator loads its partition shortly after start-up.
	for {
		fetched, err = adm.FetchOffsets(ctx, group)
		if err == nil {
			err = fetched.Error()
		}
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("fetching offsets after restart: %v", err)
	}
	for _, want := range offsets.Sorted() {
		got, ok := fetched.Lookup(topic, want.Partition)
		if !ok || got.At != want.At {
			t.Errorf("partition %d: committed offset after restart = %+v (found %v), want %d", want.Partition, got.At, ok, want.At)
		}
	}
	after, err := ReadAll(ctx, b.Addr, topic, kgo.ReadCommitted())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != n {
		t.Fatalf("after restart: read %d records, want %d", len(after), n)
	}
	// Partitions interleave differently from one read to the next: compare
	// by position.
	type pos struct {
		partition int32
		offset    int64
	}
	want := make(map[pos]string, len(before))
	for _, r := range before {
		want[pos{r.Partition, r.Offset}] = string(r.Value)
	}
	for _, r := range after {
		if v, ok := want[pos{r.Partition, r.Offset}]; !ok || v != string(r.Value) {
			t.Errorf("record at %d@%d after restart = %q, before it was %q (found %v)", r.Partition, r.Offset, r.Value, v, ok)
		}
	}
}
