package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSeedExample(t *testing.T) {
	// The seed README's input and output, with the clock fixed.
	tr := newTransformer(t, Options{PipelineName: "flink-event-processor"})
	in := `{
  "id": "event-123",
  "type": "user-action",
  "timestamp": 1234567890000,
  "data": {
    "action": "click",
    "userId": 42
  }
}`
	res := tr.Transform(nil, []byte(in), testSrc, testNow)
	want := `{"originalId":"event-123","eventType":"user-action","processedAt":"2024-12-04T15:30:00.000Z",` +
		`"processingDelay":498758310000,"enrichedData":{"action":"click","userId":42,` +
		`"original_timestamp":1234567890000,"processing_pipeline":"flink-event-processor"}}`
	if string(res.Value) != want || res.IsError || res.ErrorType != "" || string(res.ID) != "event-123" {
		t.Fatalf("got %s (IsError %v, ErrorType %q, ID %q)\nwant %s", res.Value, res.IsError, res.ErrorType, res.ID, want)
	}
	checkEvent(t, tr, res)
}

// output is the output event Transform should write at testNow with the
// default pipeline name; members is enrichedData's members before the added two.
func output(id, typ string, ts int64, members string) string {
	if members != "" {
		members += ","
	}
	return `{"originalId":` + id + `,"eventType":` + typ + `,"processedAt":"2024-12-04T15:30:00.000Z","processingDelay":` +
		strconv.FormatInt(testNow.UnixMilli()-ts, 10) + `,"enrichedData":{` + members +
		`"original_timestamp":` + strconv.FormatInt(ts, 10) + `,"processing_pipeline":"event-processor"}}`
}

func TestOutputEvents(t *testing.T) {
	event := func(data string) string {
		return `{"id":"e1","type":"t","timestamp":1000,"data":` + data + `}`
	}
	deep := func(n int) string { // data nested so that the event has n levels in all
		return strings.Repeat(`{"a":`, n-2) + `{}` + strings.Repeat(`}`, n-2)
	}
	tests := []struct {
		name, in, want string
		id             string // Result.ID
	}{
		{"big integers and decimals", event(`{"big":12345678901234567890,"dec":1.50,"neg":-0.0,"exp":1E+400,"small":-12e-3}`),
			output(`"e1"`, `"t"`, 1000, `"big":12345678901234567890,"dec":1.50,"neg":-0.0,"exp":1E+400,"small":-12e-3`), "e1"},
		{"unicode and escapes kept as written", event(`{"s":"caf\u00e9 ☕ \ud83d\ude00 😀 \"q\" \\ \/ \n\t","ключ":"значение"}`),
			output(`"e1"`, `"t"`, 1000, `"s":"caf\u00e9 ☕ \ud83d\ude00 😀 \"q\" \\ \/ \n\t","ключ":"значение"`), "e1"},
		{"nested objects and arrays", event(`{"o":{"a":[1,{"b":[true,false,null]},[]],"e":{}},"arr":[[["x"]]]}`),
			output(`"e1"`, `"t"`, 1000, `"o":{"a":[1,{"b":[true,false,null]},[]],"e":{}},"arr":[[["x"]]]`), "e1"},
		{"insignificant whitespace removed, strings untouched", event(" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":{ \"c\" : \"x y\\\" z\" } } "),
			output(`"e1"`, `"t"`, 1000, `"a":[1,2],"b":{"c":"x y\" z"}`), "e1"},
		{"data null", event(`null`), output(`"e1"`, `"t"`, 1000, ``), "e1"},
		{"data absent", `{"id":"e1","type":"t","timestamp":1000}`, output(`"e1"`, `"t"`, 1000, ``), "e1"},
		{"data empty", event(`{}`), output(`"e1"`, `"t"`, 1000, ``), "e1"},
		{"added keys replace data's", event(`{"original_timestamp":"x","a":1,"processing_pipeline":{"p":1},"original_timestamp":2}`),
			output(`"e1"`, `"t"`, 1000, `"a":1`), "e1"},
		{"escaped spelling of a reserved key is replaced", event(`{"original\u005ftimestamp":1,"b":2}`),
			output(`"e1"`, `"t"`, 1000, `"b":2`), "e1"},
		{"unknown top-level fields ignored", `{"x":[1,{"x":1,"x":2}],"id":"e1","version":2,"type":"t","timestamp":1000,"data":{"k":"v"},"x":null}`,
			output(`"e1"`, `"t"`, 1000, `"k":"v"`), "e1"},
		{"known keys may be escaped", `{"\u0069d":"e1","typ\u0065":"t","timestamp":1000}`, output(`"e1"`, `"t"`, 1000, ``), "e1"},
		{"id with escapes is unescaped in ID", `{"id":"a\"b\u00e9\ud83d\ude00","type":"t","timestamp":1000}`,
			output(`"a\"b\u00e9\ud83d\ude00"`, `"t"`, 1000, ``), "a\"bé😀"},
		{"members in any order", `{"data":{"z":1},"timestamp":1000,"type":"t","id":"e1"}`, output(`"e1"`, `"t"`, 1000, `"z":1`), "e1"},
		{"timestamp zero", `{"id":"e1","type":"t","timestamp":0}`, output(`"e1"`, `"t"`, 0, ``), "e1"},
		{"timestamp minus zero is zero", `{"id":"e1","type":"t","timestamp":-0}`, output(`"e1"`, `"t"`, 0, ``), "e1"},
		{"timestamp at the maximum, negative delay", `{"id":"e1","type":"t","timestamp":253402300799999}`,
			output(`"e1"`, `"t"`, MaxTimestamp, ``), "e1"},
		{"whitespace around the value", " \t\r\n" + `{"id":"e1","type":"t","timestamp":1000}` + "\n ", output(`"e1"`, `"t"`, 1000, ``), "e1"},
		{"nesting at the limit", event(deep(MaxDepth)), output(`"e1"`, `"t"`, 1000, deep(MaxDepth)[1:len(deep(MaxDepth))-1]), "e1"},
		{"many data members", event(`{` + manyMembers(100, false) + `}`), output(`"e1"`, `"t"`, 1000, manyMembers(100, false)), "e1"},
	}
	tr := newTransformer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tr.Transform(nil, []byte(tt.in), testSrc, testNow)
			if string(res.Value) != tt.want {
				t.Fatalf("got  %.1000s\nwant %.1000s", res.Value, tt.want)
			}
			if string(res.ID) != tt.id {
				t.Errorf("ID %q, want %q", res.ID, tt.id)
			}
			checkEvent(t, tr, res)
		})
	}
}

// manyMembers is n members "k0":0,... with the last key repeating the first when dup.
func manyMembers(n int, dup bool) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := i
		if dup && i == n-1 {
			k = 0
		}
		b.WriteString(`"k` + strconv.Itoa(k) + `":` + strconv.Itoa(i))
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty value"},
		{"whitespace only", " \n\t\r ", "only whitespace"},
		{"not JSON", "this is not valid JSON", "invalid character 'h' at offset 1, in a literal"},
		{"trailing garbage", `{"id":"e1","type":"t","timestamp":1} x`, "unexpected data after the JSON value at offset 37: 'x'"},
		{"trailing brace", `{"id":"e1","type":"t","timestamp":1}}`, "unexpected data after the JSON value at offset 36"},
		{"two values", `{} {}`, "unexpected data after the JSON value at offset 3"},
		{"truncated object", `{"id":"e1","type":`, "unexpected end of JSON input"},
		{"truncated string", `{"id":"e1`, "unexpected end of JSON input"},
		{"truncated escape", `"\`, "unexpected end of JSON input"},
		{"missing colon", `{"id" "e1"}`, "expecting ':' after an object key"},
		{"missing comma", `{"id":"e1" "type":"t"}`, "expecting ',' or '}' after an object member"},
		{"trailing comma", `{"id":"e1",}`, "expecting a string for an object key"},
		{"unquoted key", `{id:"e1"}`, "expecting a string for an object key"},
		{"array trailing comma", `{"data":[1,]}`, "invalid character ']'"},
		{"bad literal", `{"data":tru}`, "in a literal"},
		{"leading zero", `{"timestamp":0123}`, "invalid character '1' at offset 14"},
		{"bare minus", `{"timestamp":-}`, "in a number"},
		{"fraction without digits", `[1.]`, "in a number"},
		{"exponent without digits", `[1e+]`, "in a number"},
		{"single quotes", `{'id':1}`, "invalid character U+0027 at offset 1"},
		{"bad escape", `{"id":"a\x"}`, "invalid escape sequence"},
		{"short unicode escape", `{"id":"\u12"}`, "invalid escape sequence"},
		{"raw control character", "{\"id\":\"a\nb\"}", "unescaped control character U+000A"},
		{"NaN", `{"timestamp":NaN}`, "invalid character 'N'"},
		{"byte order mark", "\ufeff{}", "invalid character U+FEFF"},
		{"comment", `{} // c`, "unexpected data after the JSON value"},
		{"nesting past the limit in data", `{"id":"e1","type":"t","timestamp":1,"data":` + strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth) + `}`, "nesting deeper than 1000 levels"},
		{"100k levels of arrays", strings.Repeat("[", 100_000), "nesting deeper than 1000 levels at offset 1000"},
		{"100k levels of objects", strings.Repeat(`{"a":`, 100_000), "nesting deeper than 1000 levels"},
	}
	tr := newTransformer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tr.Transform(nil, []byte(tt.in), testSrc, testNow)
			checkEvent(t, tr, res)
			ev := decodeError(t, res.Value)
			if res.ErrorType != ParseError || !strings.Contains(ev.ErrorMessage, tt.msg) {
				t.Fatalf("got %s %q, want %s containing %q", res.ErrorType, ev.ErrorMessage, ParseError, tt.msg)
			}
			if ev.RawMessage != tt.in || ev.RawMessageEncoding != "" || ev.RawMessageTruncated || res.ID != nil {
				t.Fatalf("raw message %.100q encoding %q truncated %v ID %q", ev.RawMessage, ev.RawMessageEncoding, ev.RawMessageTruncated, res.ID)
			}
		})
	}
}

type errorEvent struct {
	RawMessage               string
	ErrorType                string
	ErrorMessage             string
	Timestamp                string
	SourceTopic              *string
	SourcePartition          *int32
	SourceOffset             *int64
	RawMessageEncoding       string
	RawMessageTruncated      bool
	RawMessageOriginalLength int
}

func decodeError(t testing.TB, b []byte) errorEvent {
	t.Helper()
	var ev errorEvent
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&ev); err != nil {
		t.Fatalf("decoding error event %.300s: %v", b, err)
	}
	return ev
}

func TestInvalidUTF8(t *testing.T) {
	tr := newTransformer(t, Options{})
	for _, in := range []string{"\xff", "{\"id\":\"\xc3\x28\"}", "{\"id\":\"e1\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"k\":\"\xed\xa0\x80\"}}", "{}\xfe"} {
		res := tr.Transform(nil, []byte(in), testSrc, testNow)
		checkEvent(t, tr, res)
		ev := decodeError(t, res.Value)
		got, err := base64.StdEncoding.DecodeString(ev.RawMessage)
		if res.ErrorType != ParseError || ev.RawMessageEncoding != "base64" || err != nil || string(got) != in ||
			!strings.Contains(ev.ErrorMessage, "not valid UTF-8") {
			t.Errorf("%q: got %s", in, res.Value)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	const ok = `"id":"e1","type":"t","timestamp":1000`
	tests := []struct {
		name, in, msg string
		id            string
	}{
		{"array", `[1,2]`, "the event must be a JSON object, got an array", ""},
		{"string", `"event"`, "the event must be a JSON object, got a string", ""},
		{"number", `42`, "got a number", ""},
		{"null", `null`, "got null", ""},
		{"boolean", `true`, "got a boolean", ""},
		{"empty object", `{}`, `field "id": is required; field "type": is required; field "timestamp": is required`, ""},
		{"id missing", `{"type":"t","timestamp":1}`, `field "id": is required`, ""},
		{"id number", `{"id":1,"type":"t","timestamp":1}`, `field "id": must be a non-empty string, got a number`, ""},
		{"id null", `{"id":null,"type":"t","timestamp":1}`, `field "id": must be a non-empty string, got null`, ""},
		{"id object", `{"id":{},"type":"t","timestamp":1}`, `field "id": must be a non-empty string, got an object`, ""},
		{"id empty", `{"id":"","type":"t","timestamp":1}`, `field "id": must be a non-empty string, got an empty string`, ""},
		{"id twice", `{"id":"a","id":"b","type":"t","timestamp":1}`, `field "id": appears more than once`, ""},
		{"id twice, once escaped", `{"id":"a","\u0069d":"a","type":"t","timestamp":1}`, `field "id": appears more than once`, ""},
		{"type missing", `{"id":"e1","timestamp":1}`, `field "type": is required`, "e1"},
		{"type array", `{"id":"e1","type":["t"],"timestamp":1}`, `field "type": must be a non-empty string, got an array`, "e1"},
		{"type boolean", `{"id":"e1","type":false,"timestamp":1}`, `field "type": must be a non-empty string, got a boolean`, "e1"},
		{"type empty", `{"id":"e1","type":"","timestamp":1}`, `field "type": must be a non-empty string, got an empty string`, "e1"},
		{"timestamp missing", `{"id":"e1","type":"t"}`, `field "timestamp": is required`, "e1"},
		{"timestamp string", `{"id":"e1","type":"t","timestamp":"1733328000000"}`, `field "timestamp": must be an integer number of epoch milliseconds, got a string`, "e1"},
		{"timestamp null", `{"id":"e1","type":"t","timestamp":null}`, `field "timestamp": must be an integer number of epoch milliseconds, got null`, "e1"},
		{"timestamp boolean", `{"id":"e1","type":"t","timestamp":true}`, `got a boolean`, "e1"},
		{"timestamp object", `{"id":"e1","type":"t","timestamp":{}}`, `got an object`, "e1"},
		{"timestamp fraction", `{"id":"e1","type":"t","timestamp":1733328000000.5}`, `field "timestamp": must be an integer number of epoch milliseconds (no fraction or exponent), got 1733328000000.5`, "e1"},
		{"timestamp zero fraction", `{"id":"e1","type":"t","timestamp":1.0}`, `(no fraction or exponent), got 1.0`, "e1"},
		{"timestamp exponent", `{"id":"e1","type":"t","timestamp":1e12}`, `(no fraction or exponent), got 1e12`, "e1"},
		{"timestamp negative", `{"id":"e1","type":"t","timestamp":-1}`, `field "timestamp": must not be negative, got -1`, "e1"},
		{"timestamp huge negative", `{"id":"e1","type":"t","timestamp":-99999999999999999999}`, `must not be negative, got -99999999999999999999`, "e1"},
		{"timestamp after 9999", `{"id":"e1","type":"t","timestamp":253402300800000}`, `field "timestamp": must be at most 253402300799999 (9999-12-31T23:59:59.999Z), got 253402300800000`, "e1"},
		{"timestamp overflows int64", `{"id":"e1","type":"t","timestamp":` + strings.Repeat("9", 60) + `}`, `got ` + strings.Repeat("9", 40) + `...`, "e1"},
		{"data array", `{` + ok + `,"data":[1]}`, `field "data": must be an object or null, got an array`, "e1"},
		{"data string", `{` + ok + `,"data":"x"}`, `field "data": must be an object or null, got a string`, "e1"},
		{"data number", `{` + ok + `,"data":1}`, `got a number`, "e1"},
		{"data boolean", `{` + ok + `,"data":false}`, `got a boolean`, "e1"},
		{"data twice", `{` + ok + `,"data":{},"data":{}}`, `field "data": appears more than once`, "e1"},
		{"data repeats a key", `{` + ok + `,"data":{"a":1,"b":2,"a":3}}`, `field "data": has a repeated key "a" at offset 59`, "e1"},
		{"data repeats an escaped key", `{` + ok + `,"data":{"a":1,"\u0061":3}}`, `field "data": has a repeated key "a"`, "e1"},
		{"nested object repeats a key", `{` + ok + `,"data":{"x":[{"k":1},{"k":1,"k":2}]}}`, `has a repeated key "k"`, "e1"},
		{"large object repeats a key", `{` + ok + `,"data":{"o":{` + manyMembers(500, true) + `}}}`, `has a repeated key "k0"`, "e1"},
		{"several problems", `{"id":"","type":7,"timestamp":-5,"data":[]}`, `field "id": must be a non-empty string, got an empty string; field "type": must be a non-empty string, got a number; field "timestamp": must not be negative, got -5; field "data": must be an object or null, got an array`, ""},
	}
	tr := newTransformer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tr.Transform(nil, []byte(tt.in), testSrc, testNow)
			checkEvent(t, tr, res)
			ev := decodeError(t, res.Value)
			if res.ErrorType != ValidationError || !strings.Contains(ev.ErrorMessage, tt.msg) {
				t.Fatalf("got %s %q\nwant %s containing %q", res.ErrorType, ev.ErrorMessage, ValidationError, tt.msg)
			}
			if ev.RawMessage != tt.in || string(res.ID) != tt.id {
				t.Fatalf("raw message %q ID %q, want %q", ev.RawMessage, res.ID, tt.id)
			}
		})
	}
}

func TestErrorEventMembers(t *testing.T) {
	tr := newTransformer(t, Options{})
	res := tr.Transform(nil, []byte("this is not valid JSON"), testSrc, testNow)
	want := `{"rawMessage":"this is not valid JSON","errorType":"PARSE_ERROR",` +
		`"errorMessage":"invalid character 'h' at offset 1, in a literal (true, false or null)",` +
		`"timestamp":"2024-12-04T15:30:00.000Z","sourceTopic":"input-events","sourcePartition":2,"sourceOffset":7}`
	if string(res.Value) != want {
		t.Errorf("got  %s\nwant %s", res.Value, want)
	}
	res = tr.Transform(nil, []byte("\"\t\x01\""), Source{}, testNow.Add(1234567*time.Microsecond))
	want = `{"rawMessage":"\"\t\u0001\"","errorType":"PARSE_ERROR",` +
		`"errorMessage":"unescaped control character U+0009 in a string at offset 1",` +
		`"timestamp":"2024-12-04T15:30:01.234Z"}`
	if string(res.Value) != want {
		t.Errorf("got  %s\nwant %s", res.Value, want)
	}
}

func TestRecordSizeLimit(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	valid := `{"id":"e1","type":"t","timestamp":1000,"data":{"s":"` + big + `"}}`
	tests := []struct {
		name      string
		max       int
		in        string
		errorType string // "" for an output event
		b64       bool
	}{
		{"1 MB garbage", 0, big, ParseError, false},
		{"1 MB event, default maximum", 0, valid, OutputTooLarge, false},
		{"1 MB event, 2 MB maximum", 2_000_000, valid, "", false},
		{"1 MB of quotes escapes to 2 MB", 0, strings.Repeat(`"`, 1<<20), ParseError, false},
		{"1 MB of control characters escapes to 6 MB", 0, strings.Repeat("\x01", 1<<20), ParseError, false},
		{"1 MB invalid UTF-8", 0, strings.Repeat("\xff", 1<<20), ParseError, true},
		{"1 MB of multibyte characters", 4096, strings.Repeat("é☕😀", 1<<16), ParseError, false},
		{"invalid event at the minimum", MinMaxRecordBytes, `{"id":1,"x":"` + strings.Repeat("\x01", 5000) + `"}`, ParseError, false},
		{"valid event just over the minimum", MinMaxRecordBytes, `{"id":"e1","type":"t","timestamp":1000,"data":{"s":"` + strings.Repeat("y", 3900) + `"}}`, OutputTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTransformer(t, Options{MaxRecordBytes: tt.max})
			res := tr.Transform(nil, []byte(tt.in), testSrc, testNow)
			checkEvent(t, tr, res)
			if res.ErrorType != tt.errorType {
				t.Fatalf("ErrorType %q, want %q: %.300s", res.ErrorType, tt.errorType, res.Value)
			}
			if !res.IsError {
				return
			}
			ev := decodeError(t, res.Value)
			raw := []byte(ev.RawMessage)
			if tt.b64 {
				var err error
				if raw, err = base64.StdEncoding.DecodeString(ev.RawMessage); err != nil || ev.RawMessageEncoding != "base64" {
					t.Fatalf("rawMessage not base64 (%q): %v", ev.RawMessageEncoding, err)
				}
			}
			if !ev.RawMessageTruncated || ev.RawMessageOriginalLength != len(tt.in) || !strings.HasPrefix(tt.in, string(raw)) {
				t.Fatalf("truncated %v, original length %d (want %d), raw message a prefix of the input: %v",
					ev.RawMessageTruncated, ev.RawMessageOriginalLength, len(tt.in), strings.HasPrefix(tt.in, string(raw)))
			}
			// The cut should use the room there is.
			if slack := tr.max - len(res.Value); slack > 16 {
				t.Errorf("Value is %d bytes, %d under the maximum: the raw message was cut more than needed", len(res.Value), slack)
			}
		})
	}
}

// TestRecordSizeBoundary walks input sizes across the maximum to check the
// cut is exact: never over, and not truncated when it fits.
func TestRecordSizeBoundary(t *testing.T) {
	tr := newTransformer(t, Options{MaxRecordBytes: MinMaxRecordBytes})
	for n := 3800; n < 4200; n++ {
		for _, fill := range []string{"a", `"`, "\x02", "é"} {
			in := []byte(strings.Repeat(fill, n/len(fill)))
			res := tr.Transform(nil, in, testSrc, testNow)
			checkEvent(t, tr, res)
			ev := decodeError(t, res.Value)
			if !ev.RawMessageTruncated && ev.RawMessage != string(in) {
				t.Fatalf("n=%d fill %q: raw message changed without being marked truncated", n, fill)
			}
		}
		out := `{"id":"e1","type":"t","timestamp":1000,"data":{"s":"` + strings.Repeat("z", n-180) + `"}}`
		res := tr.Transform(nil, []byte(out), testSrc, testNow)
		checkEvent(t, tr, res)
	}
}

func TestNestingIsLinear(t *testing.T) {
	tr := newTransformer(t, Options{})
	// Time per byte should not grow with depth; compare 100k and 1M levels
	// loosely, so a quadratic scan fails but a slow machine does not.
	elapsed := func(n int) time.Duration {
		in := []byte(strings.Repeat(`{"a":[`, n))
		start := time.Now()
		for range 5 {
			if res := tr.Transform(nil, in, testSrc, testNow); res.ErrorType != ParseError {
				t.Fatalf("%d levels: %s", n, res.ErrorType)
			}
		}
		return time.Since(start)
	}
	small, large := elapsed(100_000), elapsed(1_000_000)
	if large > 50*small+50*time.Millisecond {
		t.Errorf("100k levels took %v, 1M levels %v: not linear", small, large)
	}
}

func TestAppendsToDst(t *testing.T) {
	tr := newTransformer(t, Options{})
	buf := []byte("prefix")
	in := []byte(`{"id":"e1","type":"t","timestamp":1000}`)
	res := tr.Transform(buf, in, testSrc, testNow)
	want := output(`"e1"`, `"t"`, 1000, ``)
	if string(res.Value) != want {
		t.Fatalf("got %s", res.Value)
	}
	if string(buf) != "prefix" {
		t.Fatalf("dst changed: %q", buf)
	}
	// Packing: each Value starts where the previous ended.
	arena := make([]byte, 0, 4096)
	first := tr.Transform(arena, in, testSrc, testNow)
	second := tr.Transform(first.Value[len(first.Value):], []byte("bad"), testSrc, testNow)
	if string(first.Value) != want || !second.IsError || &first.Value[:cap(first.Value)][len(first.Value)] != &second.Value[0] {
		t.Fatalf("packing failed: %s / %s", first.Value, second.Value)
	}
	// ID aliases the input, not the output.
	if &res.ID[0] != &in[7] {
		t.Error("ID does not alias raw")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		o     Options
		field string
	}{
		{Options{}, ""},
		{Options{PipelineName: "p", MaxRecordBytes: MinMaxRecordBytes}, ""},
		{Options{PipelineName: "quote\" and é"}, ""},
		{Options{MaxRecordBytes: -1}, "MaxRecordBytes"},
		{Options{MaxRecordBytes: MinMaxRecordBytes - 1}, "MaxRecordBytes"},
		{Options{MaxRecordBytes: 1 << 40}, "MaxRecordBytes"},
		{Options{PipelineName: "\xff"}, "PipelineName"},
		{Options{PipelineName: strings.Repeat("p", 257)}, "PipelineName"},
	}
	for _, tt := range tests {
		_, err := New(tt.o)
		var oe *OptionError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("New(%+v): %v", tt.o, err)
		case tt.field != "" && (!errors.As(err, &oe) || oe.Field != tt.field || !strings.Contains(err.Error(), tt.field)):
			t.Errorf("New(%+v): %v, want an OptionError for %s", tt.o, err, tt.field)
		}
	}
	tr := newTransformer(t, Options{PipelineName: "quote\" and é"})
	res := tr.Transform(nil, []byte(`{"id":"e1","type":"t","timestamp":1}`), testSrc, testNow)
	checkEvent(t, tr, res)
	if !bytes.HasSuffix(res.Value, []byte(`"processing_pipeline":"quote\" and é"}}`)) {
		t.Errorf("pipeline name not escaped: %s", res.Value)
	}
}

func TestProcessingTime(t *testing.T) {
	tr := newTransformer(t, Options{})
	in := []byte(`{"id":"e1","type":"t","timestamp":1000}`)
	for _, tt := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("X", 3600)), `"processedAt":"2024-01-02T02:04:05.999Z","processingDelay":1704161044999`},
		{time.UnixMilli(0), `"processedAt":"1970-01-01T00:00:00.000Z","processingDelay":-1000`},
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), `"processedAt":"12000-01-01T00:00:00.000Z"`},
	} {
		res := tr.Transform(nil, in, Source{}, tt.now)
		checkEvent(t, tr, res)
		if !strings.Contains(string(res.Value), tt.want) {
			t.Errorf("at %v: %s, want %s", tt.now, res.Value, tt.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := newTransformer(t, Options{})
	want := string(tr.Transform(nil, []byte(typicalEvent), testSrc, testNow).Value)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var dst []byte
			for range 1000 {
				res := tr.Transform(dst[:0], []byte(typicalEvent), testSrc, testNow)
				if string(res.Value) != want {
					t.Errorf("got %s", res.Value)
					return
				}
				dst = res.Value
			}
		})
	}
	wg.Wait()
}

func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful in -short or -race runs")
	}
	tr := newTransformer(t, Options{})
	raw := []byte(typicalEvent)
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { tr.Transform(dst[:0], raw, testSrc, testNow) }); n != 0 {
		t.Errorf("%v allocations per output event with room in dst, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { tr.Transform(nil, raw, testSrc, testNow) }); n > 1 {
		t.Errorf("%v allocations per output event with a nil dst, want 1", n)
	}
}
