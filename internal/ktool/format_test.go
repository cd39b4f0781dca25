package ktool

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var testTime = time.Date(2026, 11, 27, 20, 51, 42, 123_000_000, time.FixedZone("CET", 3600))

func testRecord(key, value []byte, headers ...kgo.RecordHeader) *kgo.Record {
	return &kgo.Record{Topic: "input-events", Partition: 2, Offset: 17, Timestamp: testTime,
		Key: key, Value: value, Headers: headers}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name string
		r    *kgo.Record
		want string
	}{
		{"JSON value embedded and compacted",
			testRecord([]byte("k1"), []byte("{\n  \"id\": \"a<b\",\n  \"n\": 1.50\n}"), kgo.RecordHeader{Key: "source", Value: []byte("ktool")}),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":"k1","headers":{"source":"ktool"},"value":{"id":"a<b","n":1.50}}`},
		{"text value as string, no key, no headers",
			testRecord(nil, []byte(`this is "not" valid JSON`)),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":null,"headers":{},"value":"this is \"not\" valid JSON"}`},
		{"JSON scalar and empty key",
			testRecord([]byte{}, []byte(`42`)),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":"","headers":{},"value":42}`},
		{"null value",
			testRecord(nil, nil),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":null,"headers":{},"value":null}`},
		{"empty value",
			testRecord(nil, []byte{}),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":null,"headers":{},"value":""}`},
		{"multi-line text stays one line",
			testRecord(nil, []byte("line1\nline2\t\x01")),
			`{"topic":"input-events","partition":2,"offset":17,"timestamp":"2026-11-27T19:51:42.123Z","key":null,"headers":{},"value":"line1\nline2\t\u0001"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeJSON(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			var back map[string]any
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Errorf("output is not JSON: %v", err)
			}
		})
	}
}

func TestWritePretty(t *testing.T) {
	tests := []struct {
		name string
		r    *kgo.Record
		want string
	}{
		{"JSON value indented, headers",
			testRecord([]byte("test-1"), []byte(`{"id":"test-1","data":{"userId":42}}`),
				kgo.RecordHeader{Key: "source", Value: []byte("ktool")}, kgo.RecordHeader{Key: "n", Value: []byte("1")}),
			"--- input-events partition 2 offset 17 at 2026-11-27T19:51:42.123Z\n" +
				"key:     test-1\n" +
				"headers: source=ktool n=1\n" +
				"{\n  \"id\": \"test-1\",\n  \"data\": {\n    \"userId\": 42\n  }\n}\n\n"},
		{"text value, no key",
			testRecord(nil, []byte("this is not valid JSON")),
			"--- input-events partition 2 offset 17 at 2026-11-27T19:51:42.123Z\n" +
				"key:     (none)\n" +
				"this is not valid JSON\n\n"},
		{"binary value quoted",
			testRecord([]byte("k"), []byte{0xff, 'a', 0x00}),
			"--- input-events partition 2 offset 17 at 2026-11-27T19:51:42.123Z\n" +
				"key:     k\n" +
				"\"\\xffa\\x00\"\n\n"},
		{"null value",
			testRecord(nil, nil),
			"--- input-events partition 2 offset 17 at 2026-11-27T19:51:42.123Z\n" +
				"key:     (none)\n" +
				"(null value)\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writePretty(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteValue(t *testing.T) {
	var buf bytes.Buffer
	for _, v := range []string{`{"a":1}`, "text"} {
		if err := writeValue(&buf, testRecord(nil, []byte(v))); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := buf.String(), "{\"a\":1}\ntext\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
