package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

var (
	testNow = time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)
	testSrc = Source{Topic: "input-events", Partition: 2, Offset: 7, Known: true}
)

func newTransformer(t testing.TB, o Options) *Transformer {
	t.Helper()
	tr, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return tr
}

// checkEvent checks what holds for every result: the size cap, valid JSON,
// no duplicate keys, and the members of an output or error event in order.
func checkEvent(t testing.TB, tr *Transformer, res Result) {
	t.Helper()
	if len(res.Value) > tr.max {
		t.Fatalf("Value is %d bytes, over the maximum %d", len(res.Value), tr.max)
	}
	if err := checkJSON(res.Value); err != nil {
		t.Fatalf("Value %.300s: %v", res.Value, err)
	}
	keys := topKeys(t, res.Value)
	if !res.IsError {
		want := []string{"originalId", "eventType", "processedAt", "processingDelay", "enrichedData"}
		if fmt.Sprint(keys) != fmt.Sprint(want) || res.ErrorType != "" {
			t.Fatalf("output event members %v, ErrorType %q; want %v", keys, res.ErrorType, want)
		}
		var ev struct{ EnrichedData json.RawMessage }
		if err := json.Unmarshal(res.Value, &ev); err != nil {
			t.Fatal(err)
		}
		dk := topKeys(t, ev.EnrichedData)
		if len(dk) < 2 || dk[len(dk)-2] != "original_timestamp" || dk[len(dk)-1] != "processing_pipeline" {
			t.Fatalf("enrichedData members %v do not end with original_timestamp, processing_pipeline", dk)
		}
		return
	}
	switch res.ErrorType {
	case ParseError, ValidationError, OutputTooLarge:
	default:
		t.Fatalf("ErrorType %q", res.ErrorType)
	}
	if len(keys) < 4 || fmt.Sprint(keys[:4]) != "[rawMessage errorType errorMessage timestamp]" {
		t.Fatalf("error event members %v", keys)
	}
	var ev struct{ ErrorType string }
	if err := json.Unmarshal(res.Value, &ev); err != nil || ev.ErrorType != res.ErrorType {
		t.Fatalf("errorType member %q, Result.ErrorType %q (%v)", ev.ErrorType, res.ErrorType, err)
	}
}

// topKeys returns the member names of a JSON object, in order.
func topKeys(t testing.TB, b []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %.200s", b)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// checkJSON reports whether b is exactly one JSON value with no object that
// repeats a key.
func checkJSON(b []byte) error {
	if !json.Valid(b) {
		return errors.New("not valid JSON")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		keys     map[string]bool
		isObject bool
		wantKey  bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.isObject && top.wantKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].isObject {
					stack[len(stack)-1].wantKey = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("duplicate key %q", k)
			}
			top.keys[k] = true
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, isObject: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].isObject {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// decodeNumbers decodes b keeping numbers as written.
func decodeNumbers(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %.200s: %v", b, err)
	}
	return v
}
