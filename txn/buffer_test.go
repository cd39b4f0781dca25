package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A transaction may hold MaxRecords inputs; if the producer buffers fewer,
// a produce blocks until earlier records finish, which while a broker is down
// is never: the loop would hang in Produce, ending nothing and reporting no
// heartbeat. The loop's buffer must exceed the batch bound whatever
// ClientOpts say (here 10 for a bound of 100, as the default 50,000 is for
// --txn-max-records 100000), so that End is reached, bounded by
// TransactionTimeout, and the session rebuilt.
func TestProduceBufferExceedsBatchBound(t *testing.T) {
	t.Parallel()
	for _, max := range []int{1, DefaultMaxRecords, 100000, 1 << 20} {
		if b := producerBuffer(max); b <= max {
			t.Errorf("MaxRecords %d: producer buffer %d records, want more", max, b)
		}
	}
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: outTopic, Err: kerr.NotLeaderForPartition, Count: -1})
	t.Cleanup(fault.Remove)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxRecords = 100
	cfg.TransactionTimeout = time.Second
	cfg.ClientOpts = append(cfg.ClientOpts, kgo.MaxBufferedRecords(10))
	start(t, cfg, identity)

	if err := fault.Wait(t.Context(), 1); err != nil {
		t.Fatalf("waiting for failing produces: %v", err)
	}
	eventually(t, 10*time.Second, "a transaction ended as failed while produces cannot complete", func() bool {
		txns, _ := obs.count(Failed)
		return txns > 0
	})
	fault.Remove()
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 15*time.Second), n)
}
