package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// With the default Linger, a transaction whose input is drained commits at
// once instead of waiting out MaxInterval (here a minute, longer than the
// test waits): each burst of input is committed on its own, while no
// transaction is left open.
func TestDrainedInputCommitsAtOnce(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxInterval = time.Minute
	cfg.TransactionTimeout = 2 * time.Minute
	cfg.MaxRecords = 1 << 20
	r := start(t, cfg, identity)

	produceInput(t, c, inTopic, 0, n)
	waitCommitted(t, c, n/3, 20*time.Second)
	produceInput(t, c, inTopic, n, n)
	waitCommitted(t, c, 2*n/3, 20*time.Second)
	if txns, records := obs.count(Committed); txns < 2 || records != 2*n {
		t.Errorf("%d transactions committed %d records before shutdown, want at least 2 with %d", txns, records, 2*n)
	}
	r.stop(t)
	assertExactlyOnce(t, readAll(t, c, outTopic, 2*n, false, 5*time.Second), 2*n)
}

func TestDrained(t *testing.T) {
	part := func(p int32, hwm, lso int64, offsets ...int64) kgo.FetchPartition {
		fp := kgo.FetchPartition{Partition: p, HighWatermark: hwm, LastStableOffset: lso}
		for _, o := range offsets {
			fp.Records = append(fp.Records, &kgo.Record{Topic: inTopic, Partition: p, Offset: o})
		}
		return fp
	}
	fetches := func(ps ...kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: inTopic, Partitions: ps}}}}
	}
	for _, tc := range []struct {
		name     string
		buffered int64
		fetches  kgo.Fetches
		want     bool
	}{
		{"empty poll", 0, nil, true},
		{"read to the last stable offset", 0, fetches(part(0, 10, 10, 8, 9), part(1, 5, 5, 4)), true},
		{"an open upstream transaction past the last stable offset", 0, fetches(part(0, 12, 10, 9)), true},
		{"behind the last stable offset", 0, fetches(part(0, 10, 10, 9), part(1, 5, 5, 3)), false},
		{"no last stable offset: the high watermark", 0, fetches(part(0, 10, -1, 8)), false},
		{"records left in the client's buffer", 1, fetches(part(0, 10, 10, 9)), false},
		{"a partition without records", 0, fetches(part(0, 10, 10), part(1, 5, 5, 4)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := drained(tc.buffered, tc.fetches); got != tc.want {
				t.Errorf("drained = %v, want %v", got, tc.want)
			}
		})
	}
}
