package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
	"unicode/utf8"
)

// typicalEvent is a ~250-byte event of the kind the processor sees.
const typicalEvent = `{"id":"evt-7f3c9a12-4b6e-4d2a-9c1f-2e8b5a6d7c90","type":"user-action","timestamp":1733328000000,` +
	`"data":{"action":"click","userId":42,"page":"/products/12345","sessionId":"s-88f1c2d3",` +
	`"amount":19.99,"tags":["promo","mobile"],"geo":{"country":"DE","city":"Berlin"}}}`

var benchNow = time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)

// BenchmarkTransform is the processor's hot path: one event, dst reused.
func BenchmarkTransform(b *testing.B) {
	tr, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(typicalEvent)
	src := Source{Topic: "input-events", Partition: 3, Offset: 12345, Known: true}
	var dst []byte
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		res := tr.Transform(dst[:0], raw, src, benchNow)
		if res.IsError {
			b.Fatal(string(res.Value))
		}
		dst = res.Value
	}
}

// BenchmarkTransformNewBuffer gives each event its own buffer, as a
// processor that hands the value to an asynchronous producer must.
func BenchmarkTransformNewBuffer(b *testing.B) {
	tr, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(typicalEvent)
	src := Source{Topic: "input-events", Partition: 3, Offset: 12345, Known: true}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if res := tr.Transform(nil, raw, src, benchNow); res.IsError {
			b.Fatal(string(res.Value))
		}
	}
}

// BenchmarkBaseline is the same rules written the straightforward way with
// encoding/json and map[string]any; Transform is measured against it.
func BenchmarkBaseline(b *testing.B) {
	raw := []byte(typicalEvent)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, isErr := baselineTransform(raw, "event-processor", benchNow); isErr {
			b.Fatal("baseline rejected the typical event")
		}
	}
}

type baselineOutput struct {
	OriginalID      string         `json:"originalId"`
	EventType       string         `json:"eventType"`
	ProcessedAt     string         `json:"processedAt"`
	ProcessingDelay int64          `json:"processingDelay"`
	EnrichedData    map[string]any `json:"enrichedData"`
}

type baselineError struct {
	RawMessage   string `json:"rawMessage"`
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
	Timestamp    string `json:"timestamp"`
}

// baselineTransform applies the rules with encoding/json. It is the
// reference for the benchmark, not for behaviour: map[string]any loses the
// order of data's members (encoding/json sorts them), which only makes it
// cheaper, and it has no depth limit or size cap.
func baselineTransform(raw []byte, pipeline string, now time.Time) ([]byte, bool) {
	fail := func(errorType, msg string) ([]byte, bool) {
		out, _ := json.Marshal(baselineError{string(raw), errorType, msg, now.UTC().Format("2006-01-02T15:04:05.000Z07:00")})
		return out, true
	}
	if len(raw) == 0 {
		return fail(ParseError, "empty value")
	}
	if !utf8.Valid(raw) {
		return fail(ParseError, "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fail(ParseError, err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(ParseError, "trailing data after the JSON value")
	}
	ev, ok := v.(map[string]any)
	if !ok {
		return fail(ValidationError, "the event must be a JSON object")
	}
	id, ok := ev["id"].(string)
	if !ok || id == "" {
		return fail(ValidationError, `field "id": must be a non-empty string`)
	}
	typ, ok := ev["type"].(string)
	if !ok || typ == "" {
		return fail(ValidationError, `field "type": must be a non-empty string`)
	}
	num, ok := ev["timestamp"].(json.Number)
	if !ok {
		return fail(ValidationError, `field "timestamp": must be an integer number of epoch milliseconds`)
	}
	ts, err := num.Int64()
	if err != nil || ts < 0 || ts > MaxTimestamp {
		return fail(ValidationError, fmt.Sprintf(`field "timestamp": out of range: %s`, num))
	}
	data := map[string]any{}
	switch d := ev["data"].(type) {
	case nil:
	case map[string]any:
		data = d
	default:
		return fail(ValidationError, `field "data": must be an object or null`)
	}
	data["original_timestamp"] = ts
	data["processing_pipeline"] = pipeline
	out, err := json.Marshal(baselineOutput{
		OriginalID:      id,
		EventType:       typ,
		ProcessedAt:     now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		ProcessingDelay: now.UnixMilli() - ts,
		EnrichedData:    data,
	})
	if err != nil {
		return fail(ValidationError, err.Error())
	}
	return out, false
}

// TestBaselineAgrees keeps the baseline honest: on the benchmark event it
// must produce the same members and values as Transform.
func TestBaselineAgrees(t *testing.T) {
	tr, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, isErr := baselineTransform([]byte(typicalEvent), DefaultPipelineName, benchNow)
	if isErr {
		t.Fatalf("baseline: %s", want)
	}
	got := tr.Transform(nil, []byte(typicalEvent), Source{}, benchNow)
	var g, w any
	for _, p := range []struct {
		b []byte
		v *any
	}{{got.Value, &g}, {want, &w}} {
		d := json.NewDecoder(bytes.NewReader(p.b))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("Transform and baseline differ:\n got  %s\n want %s", got.Value, want)
	}
	if len(typicalEvent) < 230 || len(typicalEvent) > 270 {
		t.Errorf("typical event is %d bytes, want about 250", len(typicalEvent))
	}
}
