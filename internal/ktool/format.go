package ktool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormatter writes one record to w.
type recordFormatter func(w io.Writer, r *kgo.Record) error

var formatters = map[string]recordFormatter{
	"pretty": writePretty,
	"json":   writeJSON,
	"value":  writeValue,
}

// timestampLayout is RFC 3339 in UTC with milliseconds, Kafka's precision.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTimestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

// jsonRecord is one line of --format json. Field order is the output order.
type jsonRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp string            `json:"timestamp"`
	Key       *string           `json:"key"`     // null for no key
	Headers   map[string]string `json:"headers"` // always an object; a repeated key keeps its last value
	Value     json.RawMessage   `json:"value"`
}

// writeJSON writes the record as one JSON object on one line. The value is
// embedded as JSON when it is valid JSON, otherwise as a string; a null
// value is null. Bytes that are not UTF-8 become U+FFFD.
func writeJSON(w io.Writer, r *kgo.Record) error {
	jr := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: formatTimestamp(r.Timestamp),
		Headers:   make(map[string]string, len(r.Headers)),
		Value:     jsonValue(r.Value),
	}
	if r.Key != nil {
		k := string(r.Key)
		jr.Key = &k
	}
	for _, h := range r.Headers {
		jr.Headers[h.Key] = string(h.Value)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jr); err != nil { // Encode appends the newline
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// jsonValue returns v compacted if it is valid JSON, else v as a JSON
// string; nil for a null value.
func jsonValue(v []byte) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	var buf bytes.Buffer
	if json.Valid(v) && json.Compact(&buf, v) == nil {
		return buf.Bytes()
	}
	var s bytes.Buffer
	enc := json.NewEncoder(&s)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(string(v)) // a string always encodes
	return bytes.TrimSuffix(s.Bytes(), []byte("\n"))
}

// writePretty writes a readable block:
//
//	--- input-events partition 0 offset 12 at 2026-11-27T20:51:42.123Z
//	key:     test-1
//	headers: source=ktool
//	{
//	  "id": "test-1"
//	}
//
// A JSON value is indented; any other value is printed as text, or quoted
// if it has bytes that are not printable text.
func writePretty(w io.Writer, r *kgo.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s partition %d offset %d at %s\n", r.Topic, r.Partition, r.Offset, formatTimestamp(r.Timestamp))
	key := "(none)"
	if r.Key != nil {
		key = printable(r.Key)
	}
	fmt.Fprintf(&b, "key:     %s\n", key)
	if len(r.Headers) > 0 {
		hs := make([]string, len(r.Headers))
		for i, h := range r.Headers {
			hs[i] = printable([]byte(h.Key)) + "=" + printable(h.Value)
		}
		fmt.Fprintf(&b, "headers: %s\n", strings.Join(hs, " "))
	}
	b.WriteString(prettyValue(r.Value))
	b.WriteString("\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func prettyValue(v []byte) string {
	switch {
	case v == nil:
		return "(null value)"
	case len(v) == 0:
		return "(empty value)"
	}
	var buf bytes.Buffer
	if json.Valid(v) && json.Indent(&buf, bytes.TrimSpace(v), "", "  ") == nil {
		return buf.String()
	}
	return printable(v)
}

// printable returns b as is if it is printable UTF-8 text (newlines and tabs
// allowed), else Go-quoted so nothing is hidden or mangled.
func printable(b []byte) string {
	if !utf8.Valid(b) {
		return strconv.Quote(string(b))
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' && r != ' ' {
			return strconv.Quote(string(b))
		}
	}
	return string(b)
}

// writeValue writes the value alone, then a newline.
func writeValue(w io.Writer, r *kgo.Record) error {
	if _, err := w.Write(r.Value); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
