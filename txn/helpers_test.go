package txn

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/event-processor/event-processor/internal/syncbuf"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	inTopic  = "in"
	outTopic = "out"
	group    = "g"
)

// newCluster starts an in-process kfake cluster with a 3-partition input
// topic and a 3-partition output topic.
func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, inTopic, outTopic)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// produceInput writes n records, keyed k<i> with value v<i>, record i to
// partition i%3, starting at index from.
func produceInput(t *testing.T, c *kfake.Cluster, topic string, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const chunk = 2000
	for i := from; i < from+n; i += chunk {
		var rs []*kgo.Record
		for j := i; j < min(i+chunk, from+n); j++ {
			rs = append(rs, &kgo.Record{Key: []byte("k" + strconv.Itoa(j)), Value: []byte("v" + strconv.Itoa(j)), Partition: int32(j % 3)})
		}
		if err := cl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
			t.Fatalf("producing input: %v", err)
		}
	}
}

// identity copies each input to outTopic with its source partition and offset
// as headers.
func identity(in *kgo.Record, out []*kgo.Record) []*kgo.Record {
	return append(out, &kgo.Record{
		Topic: outTopic,
		Key:   slices.Clone(in.Key),
		Value: slices.Clone(in.Value),
		Headers: []kgo.RecordHeader{
			{Key: "src-partition", Value: []byte(strconv.Itoa(int(in.Partition)))},
			{Key: "src-offset", Value: []byte(strconv.FormatInt(in.Offset, 10))},
		},
	})
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// source is the input position a output record came from.
func source(r *kgo.Record) string {
	return header(r, "src-partition") + "/" + header(r, "src-offset")
}

// readAll reads topic from the start until it has at least want records and
// then nothing new arrives for settle, or until the deadline. Isolation is
// read_committed unless uncommitted.
func readAll(t *testing.T, c *kfake.Cluster, topic string, want int, uncommitted bool, timeout time.Duration) []*kgo.Record {
	t.Helper()
	iso := kgo.ReadCommitted()
	if uncommitted {
		iso = kgo.ReadUncommitted()
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(iso),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	const settle = 500 * time.Millisecond
	var recs []*kgo.Record
	deadline := time.Now().Add(timeout)
	lastNew := time.Now()
	for time.Now().Before(deadline) {
		if len(recs) >= want && time.Since(lastNew) > settle {
			break
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		if n := fs.NumRecords(); n > 0 {
			recs = append(recs, fs.Records()...)
			lastNew = time.Now()
		}
	}
	return recs
}

// assertExactlyOnce checks that out holds exactly one record for each of the
// n inputs (n/3 per partition, offsets 0..n/3-1, as produceInput writes them).
func assertExactlyOnce(t *testing.T, out []*kgo.Record, n int) {
	t.Helper()
	seen := make(map[string]int, len(out))
	for _, r := range out {
		seen[source(r)]++
	}
	var missing, dup int
	for p := range 3 {
		for o := range n / 3 {
			switch seen[fmt.Sprintf("%d/%d", p, o)] {
			case 0:
				missing++
			case 1:
			default:
				dup++
			}
		}
	}
	if missing > 0 || dup > 0 || len(out) != n {
		t.Fatalf("output is not exactly once: %d records for %d inputs, %d inputs missing, %d duplicated", len(out), n, missing, dup)
	}
}

// waitCommitted waits until the group has committed offset want on every
// input partition.
func waitCommitted(t *testing.T, c *kfake.Cluster, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		gi := c.GroupInfo(group)
		done := gi != nil && len(gi.Commits[inTopic]) == 3
		if done {
			for _, cm := range gi.Commits[inTopic] {
				if cm.Offset < want {
					done = false
				}
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			var commits any
			if gi != nil {
				commits = gi.Commits
			}
			t.Fatalf("group did not commit offset %d on every partition in %s: %v", want, timeout, commits)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recorder is an Observer that counts.
type recorder struct {
	consumed   atomic.Int64
	heartbeats atomic.Int64
	rebuilds   atomic.Int64
	assigned   atomic.Int64
	fenced     atomic.Int64

	mu       sync.Mutex
	outcomes map[Outcome]int
	records  map[Outcome]int
	authz    []*AuthorizationError // every Authorization call, nil for cleared
	lag      map[string]int64      // the last Lag per "topic/partition"
}

func newRecorder() *recorder {
	return &recorder{outcomes: make(map[Outcome]int), records: make(map[Outcome]int)}
}

func (r *recorder) Consumed(n int) { r.consumed.Add(int64(n)) }
func (r *recorder) TransactionEnded(o Outcome, records int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes[o]++
	r.records[o] += records
}
func (r *recorder) SessionRebuilt(error)             { r.rebuilds.Add(1) }
func (r *recorder) Assigned(map[string][]int32)      { r.assigned.Add(1) }
func (r *recorder) Revoked(map[string][]int32, bool) {}
func (r *recorder) Heartbeat()                       { r.heartbeats.Add(1) }
func (r *recorder) Lag(topic string, p int32, lag int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lag == nil {
		r.lag = make(map[string]int64)
	}
	r.lag[topic+"/"+strconv.Itoa(int(p))] = lag
}

// lags returns the last Lag reported per "topic/partition".
func (r *recorder) lags() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.lag)
}
func (r *recorder) Fenced(error) { r.fenced.Add(1) }

func (r *recorder) Authorization(f *AuthorizationError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.authz = append(r.authz, f)
}

// authorization returns the Authorization calls so far.
func (r *recorder) authorization() []*AuthorizationError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.authz)
}

func (r *recorder) count(o Outcome) (txns, records int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[o], r.records[o]
}

// syncBuffer is a log sink a test reads while it is written.
type syncBuffer = syncbuf.Buffer

// testLogger logs to the test at Warn (-v shows it), or to buf too if given.
func testLogger(t *testing.T, buf *syncBuffer) *slog.Logger {
	if buf != nil {
		return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// testConfig is a Config against c with fast group timings.
func testConfig(t *testing.T, c *kfake.Cluster, txnID string, obs Observer) Config {
	var debug []kgo.Opt
	if os.Getenv("TXN_TEST_KGO_DEBUG") != "" {
		debug = append(debug, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, func() string { return time.Now().Format("15:04:05.000 ") + txnID + " " })))
	}
	return Config{
		Brokers:         c.ListenAddrs(),
		Group:           group,
		Topics:          []string{inTopic},
		TransactionalID: txnID,
		Logger:          testLogger(t, nil),
		Observer:        obs,
		ClientOpts: append([]kgo.Opt{
			// Fast rejoins so tests do not wait out the 3s default.
			kgo.HeartbeatInterval(100 * time.Millisecond),
		}, debug...),
	}
}

// running is a Loop running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, fn TransformFunc) *running {
	t.Helper()
	l, err := New(cfg, fn)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- l.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the loop and waits for Run, failing if it does not return nil
// within 15s. It is safe to call twice.
func (r *running) stop(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		}
	case <-time.After(15 * time.Second):
		t.Errorf("Run did not return within 15s of cancellation")
	}
	return time.Since(begin)
}

// eventually polls cond until it holds or timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
