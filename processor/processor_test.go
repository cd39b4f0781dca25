package processor

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/schema"
	"github.com/event-processor/event-processor/txn"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
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
	if p.router, err = NewRouter(cfg, cfg.MaxRecordBytes, p.now); err != nil {
		t.Fatal(err)
	}
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
			want := p.router.tf.Transform(nil, tt.in.Value, schema.Source{Topic: tt.in.Topic, Partition: tt.in.Partition, Offset: tt.in.Offset, Known: true}, p.now())
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
	if p.router, err = NewRouter(p.cfg, limit, p.now); err != nil {
		t.Fatal(err)
	}
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
	if p.router, err = NewRouter(p.cfg, limit, p.now); err != nil {
		t.Fatal(err)
	}
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
	p.health.draining.Store(true)
	if status("/readyz") != 503 {
		t.Fatal("ready while draining")
	}
	p.health.lastBeat.Store(time.Now().Add(-time.Hour).UnixNano())
	if status("/healthz") != 503 {
		t.Fatal("live although the loop has not iterated for an hour")
	}
	if status("/metrics") != 200 {
		t.Fatal("no /metrics")
	}
}
