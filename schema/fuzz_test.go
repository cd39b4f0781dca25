package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzTransform checks that for any bytes Transform returns exactly one
// event, within the size cap, as valid JSON without duplicate keys, with the
// members its kind requires; that it agrees with encoding/json on what is
// well-formed; and that output events carry data's values unchanged.
func FuzzTransform(f *testing.F) {
	for _, s := range []string{
		typicalEvent,
		`{"id":"event-123","type":"user-action","timestamp":1234567890000,"data":{"action":"click","userId":42}}`,
		`{"id":"e","type":"t","timestamp":1,"data":{"n":12345678901234567890,"d":1.50,"u":"\u00e9\ud83d\ude00","a":[{"b":null}]}}`,
		`{"id":"e","type":"t","timestamp":1,"data":{"original_timestamp":1,"processing_pipeline":2,"x":{"k":1,"k":2}}}`,
		`{"\u0069d":"a\"b","type":"t","timestamp":-0,"data":null}`,
		"", " ", "null", "[]", `{"id":1}`, "{\"id\":\"\xff\"}", `{} x`, "[[[[[[[[", `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	small := newTransformer(f, Options{MaxRecordBytes: MinMaxRecordBytes})
	def := newTransformer(f, Options{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, tr := range []*Transformer{def, small} {
			res := tr.Transform(nil, raw, testSrc, testNow)
			checkEvent(t, tr, res)

			// Appending to a non-empty dst gives the same event.
			again := tr.Transform([]byte("prefix"), raw, testSrc, testNow)
			if !bytes.Equal(again.Value, res.Value) || again.ErrorType != res.ErrorType || !bytes.Equal(again.ID, res.ID) {
				t.Fatalf("not deterministic: %s vs %s", res.Value, again.Value)
			}

			wellFormed := len(raw) > 0 && utf8.Valid(raw) && json.Valid(raw) && depth(raw) <= MaxDepth
			if wellFormed == (res.ErrorType == ParseError) {
				t.Fatalf("well-formed %v (depth %d) but ErrorType %q: %.300s", wellFormed, depth(raw), res.ErrorType, res.Value)
			}
			if res.IsError {
				continue
			}
			if res.ID == nil {
				t.Fatal("output event without an ID")
			}
			// The baseline must agree on everything map[string]any can see.
			want, isErr := baselineTransform(raw, DefaultPipelineName, testNow)
			if isErr {
				t.Fatalf("baseline rejects what Transform accepts: %s", want)
			}
			if g, w := decodeNumbers(t, res.Value), decodeNumbers(t, want); !reflect.DeepEqual(g, w) {
				t.Fatalf("Transform and baseline differ:\n got  %s\n want %s", res.Value, want)
			}
		}
	})
}

// depth is the nesting depth of well-formed JSON.
func depth(b []byte) int {
	d, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}
