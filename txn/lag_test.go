package txn

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// upstreamTxn writes perPartition records to each input partition in one
// transaction of an upstream transactional producer, and commits or aborts
// it.
func upstreamTxn(t *testing.T, cl *kgo.Client, perPartition int, commit bool) {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for p := range 3 {
		for i := range perPartition {
			rs = append(rs, &kgo.Record{Topic: inTopic, Partition: int32(p), Value: []byte("u" + strconv.Itoa(i))})
		}
	}
	if err := cl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(t.Context(), kgo.TransactionEndTry(commit)); err != nil {
		t.Fatal(err)
	}
}

// The input's tail after the last record the loop can consume may be
// transaction markers and an aborted transaction's records. Once the loop
// has consumed everything, the lag it reports must be 0 on every partition,
// and the group's committed offsets must be past that tail too, so that
// kadm's Lag (what ktool lag shows: end offset minus committed offset) is 0
// as well.
func TestLagAfterAbortedAndMarkerTail(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	up, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("upstream"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	upstreamTxn(t, up, 10, true)   // 10 records and a commit marker per partition
	upstreamTxn(t, up, 100, false) // 100 aborted records and an abort marker

	obs := newRecorder()
	start(t, testConfig(t, c, "a", obs), identity)
	out := readAll(t, c, outTopic, 30, false, 10*time.Second)
	if len(out) != 30 {
		t.Fatalf("%d outputs, want 30 (the committed inputs only)", len(out))
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(10 * time.Second)
	for {
		lags, total := obs.lags(), kadmLag(t, adm)
		zero := total == 0
		for p := range 3 {
			l, ok := lags[inTopic+"/"+strconv.Itoa(p)]
			zero = zero && ok && l == 0
		}
		if zero {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after processing everything, the loop reports lag %v and kadm's Lag is %d in total; want 0 for each", lags, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kadmLag is the group's total lag on the input topic as kadm computes it.
func kadmLag(t *testing.T, adm *kadm.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	return lags[group].Lag.TotalByTopic()[inTopic].Lag
}
