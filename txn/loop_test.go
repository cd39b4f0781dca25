package txn

import (
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Three loops share the group; once all three hold partitions, one stops
// gracefully mid-stream and a replacement with the same transactional id
// starts later, while input keeps arriving. Every input offset must appear in
// the read_committed output exactly once, and the membership changes must
// abort transactions, never fail them.
func TestExactlyOnceAcrossMembershipChanges(t *testing.T) {
	t.Parallel()
	const n = 21000 // 7000 per partition
	c := newCluster(t)
	obs := map[string]*recorder{"a": newRecorder(), "b": newRecorder(), "c": newRecorder(), "a2": newRecorder()}
	run := func(name, txnID string) *running {
		cfg := testConfig(t, c, txnID, obs[name])
		cfg.MaxRecords = 250 // many transactions, so the changes land mid-stream
		return start(t, cfg, identity)
	}
	consumed := func() (sum int64) {
		for _, r := range obs {
			sum += r.consumed.Load()
		}
		return sum
	}

	produceInput(t, c, inTopic, 0, n/3)
	a := run("a", "a")
	run("b", "b")
	run("c", "c")
	if _, err := c.WaitGroupStable(t.Context(), group, 3); err != nil {
		t.Fatalf("waiting for three members: %v", err)
	}

	produceInput(t, c, inTopic, n/3, n/3)
	eventually(t, 20*time.Second, "half the input consumed", func() bool { return consumed() >= n/2 })
	a.stop(t)

	produceInput(t, c, inTopic, 2*n/3, n/3)
	run("a2", "a") // the same instance, restarted

	waitCommitted(t, c, n/3, 25*time.Second)
	out := readAll(t, c, outTopic, n, false, 10*time.Second)
	assertExactlyOnce(t, out, n)

	for _, name := range []string{"a", "b", "c", "a2"} {
		r := obs[name]
		committed, records := r.count(Committed)
		aborted, _ := r.count(Aborted)
		failed, _ := r.count(Failed)
		t.Logf("%s: %d transactions committed (%d records), %d aborted, %d failed; %d records polled", name, committed, records, aborted, failed, r.consumed.Load())
		if failed != 0 || r.rebuilds.Load() != 0 {
			t.Errorf("%s: membership changes caused %d failed transactions and %d session rebuilds, want none", name, failed, r.rebuilds.Load())
		}
		if name != "a2" && committed == 0 {
			t.Errorf("%s committed nothing; the test wants every member working", name)
		}
	}
}

// A record the output topic refuses (over its max.message.bytes) fails its
// produce: the whole transaction aborts, so none of its records are visible
// under read_committed, and the loop polls the same input again. Here the
// refusal is transient (the transform emits the oversized record only the
// first three times), so the input ends up processed exactly once.
func TestFailedProduceAbortsTransaction(t *testing.T) {
	t.Parallel()
	const (
		n     = 3000
		side  = "side"
		limit = 200_000 // above any normal batch, below kgo's own 1MB batch limit
	)
	c := newCluster(t)
	if err := c.CreateTopic(outTopic+"-small", 3, map[string]string{"max.message.bytes": strconv.Itoa(limit)}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(side, 1, nil); err != nil {
		t.Fatal(err)
	}
	produceInput(t, c, inTopic, 0, n)

	const poison = "k1500"
	var fails int
	fn := func(in *kgo.Record, out []*kgo.Record) []*kgo.Record {
		out = identity(in, out)
		out[len(out)-1].Topic = outTopic + "-small"
		if string(in.Key) != poison {
			return out
		}
		// The poison also writes a marker to another topic, in the
		// same transaction: it must only be visible once, from the
		// attempt that commits.
		out = append(out, &kgo.Record{Topic: side, Value: []byte(strconv.Itoa(fails))})
		if fails < 3 {
			fails++
			// Random, so that compression cannot bring it under the limit.
			big := make([]byte, limit+limit/2)
			rand.Read(big)
			out[len(out)-2].Value = big
		}
		return out
	}

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	start(t, cfg, fn)

	waitCommitted(t, c, n/3, 25*time.Second)
	got := readAll(t, c, outTopic+"-small", n, false, 10*time.Second)
	assertExactlyOnce(t, got, n)
	for _, r := range got {
		if len(r.Value) > limit {
			t.Fatalf("an oversized record is visible: %s", source(r))
		}
	}
	marks := readAll(t, c, side, 1, false, 5*time.Second)
	if len(marks) != 1 || string(marks[0].Value) != "3" {
		t.Fatalf("read_committed side topic: got %d records, want exactly the one from the fourth attempt", len(marks))
	}
	// The aborted attempts did reach the broker: read_committed hides them.
	if raw := readAll(t, c, side, 2, true, 5*time.Second); len(raw) < 2 {
		t.Errorf("side topic under read_uncommitted: %d records, want the aborted attempts too", len(raw))
	}

	aborted, _ := obs.count(Aborted)
	failed, _ := obs.count(Failed)
	if aborted < 3 {
		t.Errorf("got %d aborted transactions, want at least 3 (one per failed attempt)", aborted)
	}
	if failed != 0 || obs.rebuilds.Load() != 0 {
		t.Errorf("a failed produce must abort, not fail the session: %d failed, %d rebuilds", failed, obs.rebuilds.Load())
	}
}

// A record that can never be produced stalls its input: every attempt aborts,
// the loop backs off and retries, never exits, never commits past it, and
// still stops gracefully.
func TestUnproducibleRecordRetriesForever(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)

	// k150 is the 51st record of partition 0 (i%3): offset 50.
	const poison, poisonPartition, poisonOffset = "k150", 0, 50
	fn := func(in *kgo.Record, out []*kgo.Record) []*kgo.Record {
		out = identity(in, out)
		if string(in.Key) == poison {
			out[len(out)-1].Topic = "" // no topic and no default topic: fails at once
		}
		return out
	}
	obs := newRecorder()
	r := start(t, testConfig(t, c, "a", obs), fn)

	eventually(t, 15*time.Second, "three aborted attempts", func() bool {
		aborted, _ := obs.count(Aborted)
		return aborted >= 3
	})
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v while retrying", err)
	default:
	}
	if d := r.stop(t); d > 5*time.Second {
		t.Errorf("stopping took %s", d)
	}

	gi := c.GroupInfo(group)
	if gi != nil {
		if cm, ok := gi.Commits[inTopic][poisonPartition]; ok && cm.Offset > poisonOffset {
			t.Errorf("committed offset %d on partition %d, past the unproducible record at %d", cm.Offset, poisonPartition, poisonOffset)
		}
	}
	for _, rec := range readAll(t, c, outTopic, 0, false, 2*time.Second) {
		if header(rec, "src-partition") == strconv.Itoa(poisonPartition) {
			if off, _ := strconv.Atoi(header(rec, "src-offset")); off >= poisonOffset {
				t.Fatalf("output holds input %s, at or after the unproducible record", source(rec))
			}
		}
	}
}

// Cancelling Run's context commits the open transaction (here one that would
// otherwise stay open for a minute), leaves the group and returns nil.
func TestGracefulShutdownCommitsOpenTransaction(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxInterval = time.Minute
	cfg.Linger = time.Minute
	cfg.TransactionTimeout = 2 * time.Minute
	cfg.MaxRecords = 1 << 20
	r := start(t, cfg, identity)

	eventually(t, 15*time.Second, "all input polled", func() bool { return obs.consumed.Load() >= n })
	if txns, _ := obs.count(Committed); txns != 0 {
		t.Fatalf("%d transactions committed before shutdown; the test needs one open", txns)
	}
	if d := r.stop(t); d > 5*time.Second {
		t.Errorf("graceful stop took %s", d)
	}

	if txns, records := obs.count(Committed); txns != 1 || records != n {
		t.Errorf("on shutdown: %d transactions committed with %d records, want 1 with %d", txns, records, n)
	}
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 5*time.Second), n)
	waitCommitted(t, c, n/3, time.Second)
	if gi := c.GroupInfo(group); gi != nil && len(gi.Members) != 0 {
		t.Errorf("the group still has %d members after a graceful stop", len(gi.Members))
	}
}

// An End that fails (here EndTxn answered PRODUCER_FENCED once) closes the
// session and builds a new one; the aborted work is redone, exactly once.
func TestEndErrorRebuildsSession(t *testing.T) {
	t.Parallel()
	const n = 3000
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)

	fault := c.Fault(kfake.Fault{
		Keys:     []kmsg.Key{kmsg.EndTxn},
		TopLevel: true,
		Err:      kerr.ProducerFenced,
		Count:    1,
	})
	_ = fault

	obs := newRecorder()
	start(t, testConfig(t, c, "a", obs), identity)

	waitCommitted(t, c, n/3, 25*time.Second)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 10*time.Second), n)
	if obs.rebuilds.Load() < 1 {
		t.Errorf("no session rebuild after End failed")
	}
	if failed, _ := obs.count(Failed); failed < 1 {
		t.Errorf("no Failed outcome reported")
	}
}

// A missing input topic is logged at Warn and waited for: the loop keeps
// heartbeating, and consumes the topic once it exists.
func TestMissingInputTopicIsWaitedFor(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	var logs syncBuffer
	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.Topics = []string{"later"}
	cfg.Logger = testLogger(t, &logs)
	r := start(t, cfg, identity)

	eventually(t, 15*time.Second, "a warning about the missing topic", func() bool {
		return strings.Contains(logs.String(), "input topic does not exist")
	})
	beats := obs.heartbeats.Load()
	time.Sleep(1500 * time.Millisecond)
	if obs.heartbeats.Load() <= beats {
		t.Errorf("no heartbeat while waiting for the topic")
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v while the topic was missing", err)
	default:
	}
	if obs.assigned.Load() != 0 {
		t.Errorf("partitions assigned before the topic exists")
	}

	if err := c.CreateTopic("later", 3, nil); err != nil {
		t.Fatal(err)
	}
	produceInput(t, c, "later", 0, n)
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 20*time.Second), n)
}

// An unreachable broker is reported (kgo's own Warn passes the level filter),
// does not make Run return, does not stop the heartbeat, and does not delay
// a graceful stop.
func TestUnreachableBrokerKeepsRunning(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	var logs syncBuffer
	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.Brokers = []string{"127.0.0.1:1"} // nothing listens on port 1
	cfg.Logger = testLogger(t, &logs)
	r := start(t, cfg, identity)

	eventually(t, 15*time.Second, "a warning about the broker", func() bool {
		return strings.Contains(logs.String(), "unable to open connection to broker")
	})
	beats := obs.heartbeats.Load()
	time.Sleep(1500 * time.Millisecond)
	if obs.heartbeats.Load() <= beats {
		t.Errorf("no heartbeat while the broker is unreachable")
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v while the broker was unreachable", err)
	default:
	}
	if d := r.stop(t); d > 5*time.Second {
		t.Errorf("stopping took %s", d)
	}
	for line := range strings.Lines(logs.String()) {
		// Below Warn, kgo's lines are the application's Debug.
		if strings.Contains(line, "component=kgo") && strings.Contains(line, "level=INFO") {
			t.Errorf("kgo logged at Info: %s", line)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := func() Config {
		return Config{Brokers: []string{"localhost:9092"}, Group: "g", Topics: []string{"in"}, TransactionalID: "t"}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "Brokers"},
		{"empty broker", func(c *Config) { c.Brokers = []string{""} }, "Brokers"},
		{"bad broker", func(c *Config) { c.Brokers = []string{"host:notaport"} }, "Brokers"},
		{"no group", func(c *Config) { c.Group = "" }, "Group"},
		{"no topics", func(c *Config) { c.Topics = nil }, "Topics"},
		{"empty topic", func(c *Config) { c.Topics = []string{"in", ""} }, "Topics"},
		{"no transactional id", func(c *Config) { c.TransactionalID = "" }, "TransactionalID"},
		{"negative max records", func(c *Config) { c.MaxRecords = -1 }, "MaxRecords"},
		{"negative max interval", func(c *Config) { c.MaxInterval = -time.Second }, "MaxInterval"},
		{"timeout below interval", func(c *Config) { c.MaxInterval = 5 * time.Second; c.TransactionTimeout = time.Second }, "TransactionTimeout"},
		{"negative linger", func(c *Config) { c.Linger = -time.Millisecond }, "Linger"},
		{"negative shutdown timeout", func(c *Config) { c.ShutdownTimeout = -1 }, "ShutdownTimeout"},
		{"idempotence disabled", func(c *Config) { c.ClientOpts = []kgo.Opt{kgo.DisableIdempotentWrite()} }, "ClientOpts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.edit(&cfg)
			_, err := New(cfg, identity)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want an ErrInvalidConfig", err)
			}
			if want := "Config." + tc.field + ":"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}

	if _, err := New(valid(), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil TransformFunc: got %v, want an ErrInvalidConfig", err)
	}

	l, err := New(valid(), identity)
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if l.cfg.MaxRecords != DefaultMaxRecords || l.cfg.MaxInterval != DefaultMaxInterval ||
		l.cfg.TransactionTimeout != DefaultTransactionTimeout || l.cfg.ShutdownTimeout != DefaultShutdownTimeout ||
		l.cfg.Logger == nil || l.cfg.Observer == nil {
		t.Errorf("defaults not applied: %+v", l.cfg)
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	for o, want := range map[Outcome]string{Committed: "committed", Aborted: "aborted", Failed: "failed", 9: "unknown"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}

// A stop that lands while Begin waits on a slow coordinator still commits
// the records polled before it, as long as Begin completes within half of
// the shutdown budget: the records are not left for the next instance.
func TestShutdownDuringSlowBeginCommits(t *testing.T) {
	t.Parallel()
	const n = 300
	c := newCluster(t)
	produceInput(t, c, inTopic, 0, n)
	var slowed atomic.Bool
	c.ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if slowed.CompareAndSwap(false, true) {
			c.SleepControl(func() { time.Sleep(time.Second) })
		}
		return nil, nil, false // kfake answers
	})

	obs := newRecorder()
	cfg := testConfig(t, c, "a", obs)
	cfg.MaxInterval = time.Minute
	cfg.Linger = time.Minute
	cfg.TransactionTimeout = 2 * time.Minute
	cfg.MaxRecords = 1 << 20
	cfg.ShutdownTimeout = 5 * time.Second
	r := start(t, cfg, identity)

	eventually(t, 15*time.Second, "all input polled", func() bool { return obs.consumed.Load() >= n })
	if d := r.stop(t); d > cfg.ShutdownTimeout+time.Second {
		t.Errorf("graceful stop took %s", d)
	}
	if txns, records := obs.count(Committed); txns != 1 || records != n {
		t.Errorf("on shutdown: %d transactions committed with %d records, want 1 with %d", txns, records, n)
	}
	assertExactlyOnce(t, readAll(t, c, outTopic, n, false, 5*time.Second), n)
}
