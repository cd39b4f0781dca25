package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/schema"
	"github.com/event-processor/event-processor/txn"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newTestProcessor(t *testing.T) *Processor {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:9"}
	p, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(func() time.Time {
		return time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)
	}))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(cfg, cfg.MaxRecordBytes, p.now)
	if err != nil {
		t.Fatal(err)
	}
	p.router.Store(rt)
	return p
}

func header(r *kgo.Record, key string) []string {
	var vs []string
	for _, h := range r.Headers {
		if h.Key == key {
			vs = append(vs, string(h.Value))
		}
	}
	return vs
}

func TestTransformRoutesKeysAndHeaders(t *testing.T) {
	p := newTestProcessor(t)
	valid := []byte(`{"id":"event-123","type":"user-action","timestamp":1234567890000,"data":{"action":"click","userId":42}}`)
	tests := []struct {
		name      string
		in        *kgo.Record
		wantTopic string
		wantKey   string
	}{
		{"valid, no key: keyed by event id", &kgo.Record{Topic: "input-events", Partition: 2, Offset: 7, Value: valid}, "output-results", "event-123"},
		{"valid, keyed: input key kept", &kgo.Record{Topic: "input-events", Partition: 0, Offset: 1, Key: []byte("user-42"), Value: valid}, "output-results", "user-42"},
		{"unparseable, no key: keyed by its coordinates", &kgo.Record{Topic: "input-events", Partition: 1, Offset: 3, Value: []byte("not json")}, "error-events", "input-events/1@3"},
		{"invalid with id: keyed by id", &kgo.Record{Topic: "input-events", Offset: 4, Value: []byte(`{"id":"x","type":"t"}`)}, "error-events", "x"},
		{"tombstone", &kgo.Record{Topic: "input-events", Offset: 5}, "error-events", "input-events/0@5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Headers = []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}, {Key: HeaderSourceOffset, Value: []byte("999")}}
			out := p.transform(tt.in, nil)
			if len(out) != 1 {
				t.Fatalf("got %d records, want 1", len(out))
			}
			r := out[0]
			if r.Topic != tt.wantTopic || string(r.Key) != tt.wantKey {
				t.Errorf("topic %q key %q, want %q %q", r.Topic, r.Key, tt.wantTopic, tt.wantKey)
			}
			if got := header(r, "trace"); len(got) != 1 || got[0] != "abc" {
				t.Errorf("input header trace = %v, want kept once", got)
			}
			if got := header(r, HeaderSourceOffset); len(got) != 1 || got[0] != itoa(tt.in.Offset) {
				t.Errorf("%s = %v, want exactly [%d] (an inherited one is replaced)", HeaderSourceOffset, got, tt.in.Offset)
			}
			if got := header(r, HeaderSourcePartition); len(got) != 1 || got[0] != itoa(int64(tt.in.Partition)) {
				t.Errorf("%s = %v, want [%d]", HeaderSourcePartition, got, tt.in.Partition)
			}
			if got := header(r, HeaderSourceTopic); len(got) != 1 || got[0] != "input-events" {
				t.Errorf("%s = %v", HeaderSourceTopic, got)
			}
			want := p.router.Load().tf.Transform(nil, tt.in.Value, schema.Source{Topic: tt.in.Topic, Partition: tt.in.Partition, Offset: tt.in.Offset, Known: true}, p.now())
			if string(r.Value) != string(want.Value) {
				t.Errorf("value %s, want schema's %s", r.Value, want.Value)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A key and headers bigger than the reserved room shrink the event's
// budget, so the whole record still fits under the limit.
func TestTransformLargeKeyStaysUnderLimit(t *testing.T) {
	p := newTestProcessor(t)
	const limit = 64 * 1024
	var err error
	rt, err := NewRouter(p.cfg, limit, p.now)
	if err != nil {
		t.Fatal(err)
	}
	p.router.Store(rt)
	key := []byte(strings.Repeat("k", 20*1024))
	value := []byte(`{"id":"e","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("x", 50*1024) + `"}}`)
	r := p.transform(&kgo.Record{Topic: "input-events", Key: key, Value: value}, nil)[0]
	if size := recordSize(r); size > limit {
		t.Fatalf("record is %d bytes, over the %d limit", recordSize(r), limit)
	}
	if r.Topic != "error-events" || !strings.Contains(string(r.Value), schema.OutputTooLarge) || string(r.Key) != string(key) {
		t.Fatalf("got %s key len %d: %.120s", r.Topic, len(r.Key), r.Value)
	}

	// No key, headers filling the reserved room and a long id: the id
	// must not become a key that pushes the record over the limit.
	hdrs := []kgo.RecordHeader{{Key: "h", Value: []byte(strings.Repeat("v", 3560))}}
	id := strings.Repeat("i", 200)
	value = []byte(`{"id":"` + id + `","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("x", 80*1024) + `"}}`)
	r = p.transform(&kgo.Record{Topic: "input-events", Headers: hdrs, Value: value}, nil)[0]
	if size := recordSize(r); size > limit-300 {
		t.Fatalf("keyless record with large headers is %d bytes, too close to the %d limit for framing", size, limit)
	}
	if !strings.Contains(string(r.Value), schema.OutputTooLarge) {
		t.Fatalf("got %.120s, want an %s error event", r.Value, schema.OutputTooLarge)
	}

	// A key too large to carry at all is dropped in favour of the event id.
	huge := []byte(strings.Repeat("k", 62*1024))
	r = p.transform(&kgo.Record{Topic: "input-events", Key: huge, Value: []byte(`{"id":"e","type":"t","timestamp":1}`)}, nil)[0]
	if string(r.Key) != "e" || r.Topic != "output-results" {
		t.Fatalf("huge key: got topic %s key %.20q", r.Topic, r.Key)
	}
}

// Every result has a key, whatever the input (a compacted topic refuses
// records without one), and stays under the limit with the longest topic
// name Kafka allows.
func TestEveryResultHasAKey(t *testing.T) {
	p := newTestProcessor(t)
	const limit = 64 * 1024
	var err error
	rt, err := NewRouter(p.cfg, limit, p.now)
	if err != nil {
		t.Fatal(err)
	}
	p.router.Store(rt)
	topic := strings.Repeat("t", 249)
	big := func(n int) []byte { return []byte(strings.Repeat("v", n)) }
	for _, tc := range []struct {
		name string
		in   *kgo.Record
	}{
		{"not JSON", &kgo.Record{Value: []byte("nope")}},
		{"tombstone", &kgo.Record{}},
		{"valid", &kgo.Record{Value: []byte(`{"id":"e","type":"t","timestamp":1}`)}},
		{"headers fill the room", &kgo.Record{Value: []byte("nope"), Headers: []kgo.RecordHeader{{Key: "h", Value: big(3550)}}}},
		{"headers beyond the room: shrunk", &kgo.Record{Value: append([]byte(`{"id":"e","type":"t","timestamp":1,"data":{"s":"`), append(big(70*1024), `"}}`...)...),
			Headers: []kgo.RecordHeader{{Key: "h", Value: big(20 * 1024)}}}},
		{"headers too large to carry", &kgo.Record{Value: []byte("nope"), Headers: []kgo.RecordHeader{{Key: "h", Value: big(62 * 1024)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Topic, tc.in.Partition, tc.in.Offset = topic, 2147483647, 9223372036854775807
			r := p.transform(tc.in, nil)[0]
			if len(r.Key) == 0 {
				t.Errorf("no key: %.100s", r.Value)
			}
			if size := recordSize(r); size > limit-100 {
				t.Errorf("record is %d bytes, too close to the %d limit for framing", size, limit)
			}
		})
	}
}

// recordSize is a record's key, value and header bytes, without framing.
func recordSize(r *kgo.Record) int {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	return size
}

func TestMetricsCountCommittedResultsOnly(t *testing.T) {
	p := newTestProcessor(t)
	batch := func() {
		p.transform(&kgo.Record{Topic: "input-events", Value: []byte(`{"id":"a","type":"t","timestamp":1}`)}, nil)
		p.transform(&kgo.Record{Topic: "input-events", Value: []byte(`nope`)}, nil)
	}
	batch()
	p.metrics.TransactionEnded(txn.Aborted, 2, time.Millisecond)
	batch()
	p.metrics.TransactionEnded(txn.Committed, 2, time.Millisecond)

	if got := testutil.ToFloat64(p.metrics.results.WithLabelValues("output")); got != 1 {
		t.Errorf("outputs = %v, want 1 (the aborted batch is not counted)", got)
	}
	if got := testutil.ToFloat64(p.metrics.errors.WithLabelValues(schema.ParseError)); got != 1 {
		t.Errorf("parse errors = %v, want 1", got)
	}
	if got := testutil.ToFloat64(p.metrics.transactions.WithLabelValues("aborted")); got != 1 {
		t.Errorf("aborted = %v, want 1", got)
	}
}

func TestHealthEndpoints(t *testing.T) {
	p := newTestProcessor(t)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status := func(path string) int {
		code, _ := get(path)
		return code
	}
	if status("/healthz") != 200 || status("/readyz") != 503 {
		t.Fatalf("before start: healthz %d readyz %d, want 200 503", status("/healthz"), status("/readyz"))
	}
	p.health.started.Store(true)
	if status("/readyz") != 503 {
		t.Fatal("ready before an assignment")
	}
	p.metrics.Assigned(map[string][]int32{"input-events": {0, 1}})
	if status("/readyz") != 200 {
		t.Fatal("not ready after an assignment")
	}
	if got := testutil.ToFloat64(p.metrics.assigned); got != 2 {
		t.Errorf("assigned_partitions = %v, want 2", got)
	}
	p.metrics.Revoked(map[string][]int32{"input-events": {0, 1}}, true)
	if status("/readyz") != 503 {
		t.Fatal("ready after the group was lost")
	}
	p.metrics.Assigned(map[string][]int32{"input-events": {1}})
	p.metrics.Authorization(&txn.AuthorizationError{Resource: "topic", Name: "input-events", Operation: "Read", Err: errors.New("TOPIC_AUTHORIZATION_FAILED")})
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `Read on topic "input-events" is missing`) {
		t.Fatalf("readyz while a permission is refused: %d %q", code, body)
	}
	if got := testutil.ToFloat64(p.metrics.authFailing); got != 1 {
		t.Errorf("authorization_failing = %v, want 1", got)
	}
	p.metrics.Authorization(nil)
	if status("/readyz") != 200 {
		t.Fatal("not ready after the permission came back")
	}
	if got := readyValue(t, p); got != 1 {
		t.Errorf("event_processor_ready = %v while ready, want 1", got)
	}
	p.health.draining.Store(true)
	if status("/readyz") != 503 {
		t.Fatal("ready while draining")
	}
	if got := readyValue(t, p); got != 0 {
		t.Errorf("event_processor_ready = %v while draining, want 0", got)
	}
	p.health.lastBeat.Store(time.Now().Add(-time.Hour).UnixNano())
	if status("/healthz") != 503 {
		t.Fatal("live although the loop has not iterated for an hour")
	}
	if status("/metrics") != 200 {
		t.Fatal("no /metrics")
	}
}

// runLoopOnKfake runs a txn.Loop on c (input "in", output "out", group "g",
// client id "a") that reports to p.metrics.
func runLoopOnKfake(t *testing.T, p *Processor, c *kfake.Cluster) {
	t.Helper()
	loop, err := txn.New(txn.Config{
		Brokers:         c.ListenAddrs(),
		Group:           "g",
		Topics:          []string{"in"},
		TransactionalID: "a",
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observer:        p.metrics,
		ClientOpts:      []kgo.Opt{kgo.ClientID("a"), kgo.HeartbeatInterval(100 * time.Millisecond)},
	}, func(in *kgo.Record, out []*kgo.Record) []*kgo.Record {
		return append(out, &kgo.Record{Topic: "out", Value: slices.Clone(in.Value)})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// member joins group "g" as a plain consumer of "in" with client id id.
func member(t *testing.T, c *kfake.Cluster, id string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ClientID(id), kgo.ConsumerGroup("g"),
		kgo.ConsumeTopics("in"), kgo.DisableAutoCommit(), kgo.HeartbeatInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// ownedBy is what kfake says client id holds in group "g", and the number of
// members.
func ownedBy(c *kfake.Cluster, id string) (owned map[int32]bool, members int) {
	gi := c.GroupInfo("g")
	if gi == nil || gi.State != "Stable" {
		return nil, -1
	}
	for _, m := range gi.Members {
		if m.ClientID == id {
			owned = make(map[int32]bool)
			for _, p := range m.Assignment["in"] {
				owned[p] = true
			}
		}
	}
	return owned, len(gi.Members)
}

// lagSeries is the partitions with an event_processor_consumer_lag_records
// series.
func lagSeries(t *testing.T, p *Processor) map[int32]bool {
	t.Helper()
	mfs, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[int32]bool)
	for _, mf := range mfs {
		if mf.GetName() != "event_processor_consumer_lag_records" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "partition" {
					n, _ := strconv.Atoi(l.GetValue())
					got[int32(n)] = true
				}
			}
		}
	}
	return got
}

// GroupTransactSession drops every revoke and loss after the first until
// the next End, and an idle instance never ends a transaction. The
// assignment gauge, the lag series and readiness must follow the group's
// real assignment anyway, through repeated rebalances and losses.
func TestMetricsFollowRepeatedRebalances(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("in"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := prod.ProduceSync(t.Context(), &kgo.Record{Partition: int32(i % 3), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()

	p := newTestProcessor(t)
	p.health.started.Store(true)
	runLoopOnKfake(t, p, c)

	// follows waits until the gauge and the lag series agree with what
	// kfake says the loop owns, with the group at members members.
	follows := func(what string, members int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			owned, n := ownedBy(c, "a")
			gauge := testutil.ToFloat64(p.metrics.assigned)
			lag := lagSeries(t, p)
			ok := n == members && owned != nil && gauge == float64(len(owned)) && p.health.ready()
			for part := range lag {
				ok = ok && owned[part]
			}
			if ok {
				t.Logf("%s: assigned_partitions %v, lag series %v, owned %v", what, gauge, lag, owned)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: assigned_partitions %v and lag series for %v, but the loop owns %v (group of %d members, want %d); ready %v",
					what, gauge, lag, owned, n, members, p.health.ready())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Process the input, so that every partition has a lag series; from
	// then on the loop is idle and ends no transaction.
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("the input committed and every partition's lag reported", func() bool {
		gi := c.GroupInfo("g")
		if gi == nil || len(gi.Commits["in"]) != 3 || len(lagSeries(t, p)) != 3 {
			return false
		}
		for _, cm := range gi.Commits["in"] {
			if cm.Offset != 10 {
				return false
			}
		}
		return true
	})
	follows("alone", 1)

	b := member(t, c, "b")
	follows("after b joined", 2) // the first revoke reaches the callbacks
	cm := member(t, c, "c")
	follows("after c joined", 3) // the second does not
	b.Close()
	cm.Close()
	follows("after b and c left", 1)
	revokedBefore := testutil.ToFloat64(p.metrics.rebalances.WithLabelValues("revoked"))
	if revokedBefore < 2 {
		t.Errorf("rebalances_total{kind=revoked} = %v after two rebalances that each took partitions away, want at least 2", revokedBefore)
	}

	// Lose the group twice: every heartbeat and join fails until the
	// fault is removed.
	for i := range 2 {
		fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Heartbeat, kmsg.JoinGroup}, Group: "g", TopLevel: true, Err: kerr.UnknownMemberID, Count: -1})
		eventually(fmt.Sprintf("not ready after loss %d", i+1), func() bool {
			return !p.health.ready() && testutil.ToFloat64(p.metrics.assigned) == 0 && len(lagSeries(t, p)) == 0
		})
		fault.Remove()
		follows(fmt.Sprintf("after rejoining from loss %d", i+1), 1)
	}
	if got := testutil.ToFloat64(p.metrics.rebalances.WithLabelValues("lost")); got < 2 {
		t.Errorf("rebalances_total{kind=lost} = %v after two losses, want at least 2", got)
	}
}

// commitSamples is how many observations commit_duration_seconds holds.
func commitSamples(t *testing.T, p *Processor) uint64 {
	t.Helper()
	mfs, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "event_processor_commit_duration_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no event_processor_commit_duration_seconds")
	return 0
}

// A failed Begin ends no transaction: it counts as failed, but must not put
// a zero into the distribution of End's duration.
func TestFailedBeginIsNotACommitDuration(t *testing.T) {
	p := newTestProcessor(t)
	p.metrics.TransactionEnded(txn.Failed, 0, 0) // what the loop reports for a failed Begin
	if n := commitSamples(t, p); n != 0 {
		t.Errorf("commit_duration_seconds has %d observations after a failed Begin, want 0", n)
	}
	if got := testutil.ToFloat64(p.metrics.transactions.WithLabelValues("failed")); got != 1 {
		t.Errorf("transactions_total{result=failed} = %v, want 1", got)
	}
	p.metrics.TransactionEnded(txn.Failed, 5, 3*time.Millisecond) // a failed End is observed
	p.metrics.TransactionEnded(txn.Committed, 5, 2*time.Millisecond)
	if n := commitSamples(t, p); n != 2 {
		t.Errorf("commit_duration_seconds has %d observations after two ended transactions, want 2", n)
	}
}

// readyValue reads event_processor_ready from p's registry.
func readyValue(t *testing.T, p *Processor) float64 {
	t.Helper()
	mfs, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "event_processor_ready" && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no event_processor_ready gauge")
	return 0
}

// A session rebuilt because another process took over the transactional
// id is counted and logged at Error with what it means.
func TestFencedIsLoudAndCounted(t *testing.T) {
	var logs strings.Builder
	cfg := DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:9"}
	cfg.TransactionalID = "ep-0"
	p, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p.metrics.SessionRebuilt(errors.New("unrelated"))
	if got := testutil.ToFloat64(p.metrics.fenced); got != 0 || strings.Contains(logs.String(), "fenced") {
		t.Fatalf("an unrelated rebuild counted as fenced (%v) or logged:\n%s", got, logs.String())
	}
	p.metrics.Fenced(fmt.Errorf("ending the transaction: %w", kerr.InvalidProducerEpoch))
	p.metrics.Fenced(kerr.FencedInstanceID)
	if got := testutil.ToFloat64(p.metrics.fenced); got != 2 {
		t.Errorf("fenced_total = %v, want 2", got)
	}
	if out := logs.String(); strings.Count(out, "level=ERROR msg=\"fenced:") != 2 || !strings.Contains(out, "transactional_id=ep-0") || !strings.Contains(out, "two live instances share the transactional id") {
		t.Errorf("log:\n%s", out)
	}
}

// Key and headers over the room kept for them are counted on commit and
// logged once per partition, with their size.
func TestKeyHeadersOverTheRoom(t *testing.T) {
	var logs strings.Builder
	cfg := DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:9"}
	p, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(cfg, 64*1024, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p.router.Store(rt)
	event := []byte(`{"id":"e","type":"t","timestamp":1}`)
	big := func(n int) []kgo.RecordHeader {
		return []kgo.RecordHeader{{Key: "h", Value: []byte(strings.Repeat("v", n))}}
	}
	for i := range 3 {
		p.transform(&kgo.Record{Topic: "input-events", Partition: 1, Offset: int64(i), Value: event, Headers: big(10 * 1024)}, nil)
	}
	p.transform(&kgo.Record{Topic: "input-events", Partition: 1, Offset: 3, Value: event, Headers: big(62 * 1024)}, nil)
	p.transform(&kgo.Record{Topic: "input-events", Partition: 1, Offset: 4, Value: event}, nil)
	p.metrics.TransactionEnded(txn.Committed, 5, time.Millisecond)

	if got := testutil.ToFloat64(p.metrics.keyHeaders.WithLabelValues("shrunk")); got != 3 {
		t.Errorf("key_headers_total{handling=shrunk} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(p.metrics.keyHeaders.WithLabelValues("dropped")); got != 1 {
		t.Errorf("key_headers_total{handling=dropped} = %v, want 1", got)
	}
	out := logs.String()
	if n := strings.Count(out, "need more than the room kept for them"); n != 2 || !strings.Contains(out, "key_and_headers_bytes=10249") || !strings.Contains(out, "room_bytes=3584") {
		t.Errorf("want one line per partition and kind, with the sizes; log:\n%s", out)
	}
}
