// Command gen writes the files the Kafka Streams peer's tests and error
// messages depend on, from the processor's own code, so that the peer can be
// held to the processor's bytes:
//
//   - testdata/vectors.jsonl: input records (value, key, headers,
//     coordinates, record size limit, pipeline name) and the one result
//     record processor.Router makes of each at a fixed processing time: its
//     topic, key, headers and value.
//   - src/main/resources/eventprocessor/bench/isprint.txt: the code point
//     ranges unicode.IsPrint accepts, which decide how error messages show a
//     character ('x' or U+0085).
//
// The output is the same on every run. From bench/streams:
//
//	go run ./testdata/gen
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/processor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// now is the processing time of every vector.
var now = time.Date(2024, 12, 4, 15, 30, 0, 123_000_000, time.UTC)

const (
	inputTopic       = "input-events"
	defaultLimit     = 1_000_000 // the processor's default --max-record-bytes
	smallLimit       = processor.MinRecordBytes
	fuzzCorpus       = "../../schema/testdata/fuzz/FuzzTransform"
	vectorsFile      = "testdata/vectors.jsonl"
	isPrintFile      = "src/main/resources/eventprocessor/bench/isprint.txt"
	mixedEvents      = 400
	mutationsPerBase = 6
	maxMutated       = 1024 // larger edge cases are not mutated, to keep the file small
)

// input is one input record and the router settings it is routed with.
type input struct {
	name     string
	value    []byte
	key      []byte
	headers  []kgo.RecordHeader
	limit    int
	pipeline string
}

// data is a byte string as JSON: text when it is valid UTF-8 (readable in
// diffs), else base64 in B64; neither for nil.
type data struct {
	Text *string `json:"text,omitempty"`
	B64  *string `json:"b64,omitempty"`
}

type header struct {
	Key   string `json:"key"`
	Value data   `json:"value"`
}

type record struct {
	Topic   string   `json:"topic"`
	Key     data     `json:"key"`
	Headers []header `json:"headers"`
	Value   data     `json:"value"`
}

type vector struct {
	Name      string `json:"name"`
	Pipeline  string `json:"pipeline"`
	Limit     int    `json:"limit"`
	NowMillis int64  `json:"nowMillis"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	In        record `json:"in"`
	// Out is the processor's result record; ErrorType its error event's
	// errorType ("" for an output event).
	Out       record `json:"out"`
	ErrorType string `json:"errorType"`
}

func main() {
	log.SetFlags(0)
	ins, err := inputs()
	if err != nil {
		log.Fatal(err)
	}
	if err := writeVectors(ins); err != nil {
		log.Fatal(err)
	}
	if err := writeIsPrint(); err != nil {
		log.Fatal(err)
	}
}

func writeVectors(ins []input) error {
	routers := map[string]*processor.Router{}
	var buf bytes.Buffer
	for i, in := range ins {
		if in.limit == 0 {
			in.limit = defaultLimit
		}
		if in.pipeline == "" {
			in.pipeline = processor.DefaultConfig().PipelineName
		}
		rk := in.pipeline + "\x00" + strconv.Itoa(in.limit)
		rt := routers[rk]
		if rt == nil {
			cfg := processor.DefaultConfig()
			cfg.InputTopic, cfg.PipelineName = inputTopic, in.pipeline
			var err error
			if rt, err = processor.NewRouter(cfg, in.limit, func() time.Time { return now }); err != nil {
				return fmt.Errorf("vector %s: %w", in.name, err)
			}
			routers[rk] = rt
		}
		rec := &kgo.Record{Topic: inputTopic, Partition: int32(i % 3), Offset: int64(1000 + i), Key: in.key, Value: in.value, Headers: in.headers}
		out, res := rt.Route(rec)
		v := vector{
			Name: in.name, Pipeline: in.pipeline, Limit: in.limit, NowMillis: now.UnixMilli(),
			Partition: rec.Partition, Offset: rec.Offset,
			In:        toRecord(inputTopic, rec.Key, rec.Headers, rec.Value),
			Out:       toRecord(out.Topic, out.Key, out.Headers, out.Value),
			ErrorType: res.ErrorType,
		}
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return os.WriteFile(vectorsFile, buf.Bytes(), 0o644)
}

func toData(b []byte) data {
	switch {
	case b == nil:
		return data{}
	case utf8.Valid(b):
		s := string(b)
		return data{Text: &s}
	}
	s := base64.StdEncoding.EncodeToString(b)
	return data{B64: &s}
}

func toRecord(topic string, key []byte, hs []kgo.RecordHeader, value []byte) record {
	r := record{Topic: topic, Key: toData(key), Value: toData(value), Headers: []header{}}
	for _, h := range hs {
		r.Headers = append(r.Headers, header{Key: h.Key, Value: toData(h.Value)})
	}
	return r
}

// writeIsPrint writes unicode.IsPrint as inclusive hexadecimal ranges.
func writeIsPrint() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Code points Go's unicode.IsPrint accepts (Unicode %s), as inclusive ranges.\n", unicode.Version)
	start := rune(-1)
	for r := rune(0); r <= unicode.MaxRune+1; r++ {
		p := r <= unicode.MaxRune && unicode.IsPrint(r)
		switch {
		case p && start < 0:
			start = r
		case !p && start >= 0:
			fmt.Fprintf(&b, "%x %x\n", start, r-1)
			start = -1
		}
	}
	if err := os.MkdirAll(filepath.Dir(isPrintFile), 0o755); err != nil {
		return err
	}
	return os.WriteFile(isPrintFile, []byte(b.String()), 0o644)
}

func inputs() ([]input, error) {
	var ins []input
	add := func(name string, value []byte) { ins = append(ins, input{name: name, value: value}) }

	for i, v := range examples.Invalid {
		add(fmt.Sprintf("invalid/%d", i), v)
	}
	var valid [][]byte
	for i, v := range examples.Mixed(mixedEvents, 14) {
		add(fmt.Sprintf("mixed/%d", i), v)
		if i%10 != 9 {
			valid = append(valid, v)
		}
	}
	for i, v := range handWritten() {
		add(fmt.Sprintf("edge/%d", i), v)
	}
	corpus, err := fuzzInputs()
	if err != nil {
		return nil, err
	}
	for i, v := range corpus {
		add(fmt.Sprintf("fuzz/%d", i), v)
	}

	// Mutations of valid events and of the edge cases: one byte deleted,
	// inserted, replaced or a span repeated, so that every kind of syntax
	// error turns up at many offsets.
	rng := rand.New(rand.NewPCG(14, 1014))
	bases := slices.Clone(valid[:40])
	for _, v := range handWritten() {
		if len(v) <= maxMutated {
			bases = append(bases, v)
		}
	}
	for bi, base := range bases {
		for m := range mutationsPerBase {
			add(fmt.Sprintf("mutation/%d/%d", bi, m), mutate(rng, base))
		}
	}

	// Keys, headers and record size limits, as the router handles them.
	typical := valid[0]
	big := []byte(`{"id":"big","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("x", 9000) + `"}}`)
	bigInvalid := []byte(`{"id":"big","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("é\"\n", 3000) + `"}`)
	bigBinary := append([]byte{0xff}, bytes.Repeat([]byte("bin\x00"), 3000)...)
	hdrs := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	longID := []byte(`{"id":"` + strings.Repeat("i", 3600) + `","type":"t","timestamp":1}`)
	mediumID := []byte(`{"id":"` + strings.Repeat("i", 3300) + `","type":"t","timestamp":1}`)
	ins = append(ins,
		input{name: "route/key", value: typical, key: []byte("user-42")},
		input{name: "route/empty-key", value: typical, key: []byte{}},
		input{name: "route/key-error", value: []byte("not json"), key: []byte("k")},
		input{name: "route/no-key-error", value: []byte("not json")},
		input{name: "route/escaped-id", value: []byte(`{"id":"a\u00e9\n\"b\ud83d\ude00\/","type":"t","timestamp":1}`)},
		input{name: "route/escaped-id-invalid", value: []byte(`{"id":"a\u00e9","type":"","timestamp":1}`)},
		input{name: "route/headers", value: typical, headers: hdrs("trace", "abc", "source.topic", "forged", "empty", "", "source.offset", "1")},
		input{name: "route/header-nil", value: typical, headers: []kgo.RecordHeader{{Key: "nil"}, {Key: "x", Value: []byte("y")}}},
		input{name: "route/headers-key", value: []byte("{"), key: []byte("kk"), headers: hdrs("a", "1", "a", "2")},
		input{name: "route/long-id-no-room", value: longID},
		input{name: "route/medium-id", value: mediumID},
		input{name: "route/medium-id-header", value: mediumID, headers: hdrs("h", strings.Repeat("v", 300))},
		input{name: "route/shrunk", value: typical, headers: hdrs("h", strings.Repeat("v", 5000))},
		input{name: "route/shrunk-key", value: typical, key: bytes.Repeat([]byte("k"), 4000)},
		input{name: "route/shrunk-too-large", value: big, headers: hdrs("h", strings.Repeat("v", 5000)), limit: 20_000},
		input{name: "route/dropped", value: typical, key: []byte("k"), headers: hdrs("h", strings.Repeat("v", 6000)), limit: 10_000},
		input{name: "route/dropped-error", value: []byte("nope"), headers: hdrs("h", strings.Repeat("v", 6000)), limit: 10_000},
		input{name: "limit/too-large", value: big, limit: smallLimit},
		input{name: "limit/fits", value: big, limit: 20_000},
		input{name: "limit/truncated", value: bigInvalid, limit: smallLimit},
		input{name: "limit/truncated-base64", value: bigBinary, limit: smallLimit},
		input{name: "limit/truncated-headers", value: bigInvalid, headers: hdrs("h", strings.Repeat("v", 3000)), limit: 12_000},
		input{name: "pipeline/escaped", value: typical, pipeline: "pipé \"line\"\t\\"},
		input{name: "pipeline/escaped-error", value: []byte("[]"), pipeline: "pipé \"line\"\t\\"},
		input{name: "pipeline/long", value: typical, pipeline: strings.Repeat("p", 256)},
	)
	return ins, nil
}

func mutate(rng *rand.Rand, b []byte) []byte {
	const alphabet = "{}[]\":,\\ \t\n0123456789-+.eEtrufalsn\x00\x01\x1f\x7f\xc3\xa9\xff/u"
	b = slices.Clone(b)
	if len(b) == 0 {
		return []byte{alphabet[rng.IntN(len(alphabet))]}
	}
	i := rng.IntN(len(b))
	switch rng.IntN(4) {
	case 0:
		return slices.Delete(b, i, i+1)
	case 1:
		return slices.Insert(b, i, alphabet[rng.IntN(len(alphabet))])
	case 2:
		b[i] = alphabet[rng.IntN(len(alphabet))]
		return b
	default:
		j := min(len(b), i+1+rng.IntN(8))
		return slices.Insert(b, j, b[i:j]...)
	}
}

// fuzzInputs reads the schema package's fuzz corpus, in file name order.
func fuzzInputs() ([][]byte, error) {
	files, err := filepath.Glob(filepath.Join(fuzzCorpus, "*"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		if !sc.Scan() || sc.Text() != "go test fuzz v1" {
			return nil, fmt.Errorf("%s: not a fuzz corpus file", f)
		}
		if !sc.Scan() {
			return nil, fmt.Errorf("%s: no value", f)
		}
		line := sc.Text()
		if !strings.HasPrefix(line, "[]byte(") || !strings.HasSuffix(line, ")") {
			return nil, fmt.Errorf("%s: %.40s is not a []byte value", f, line)
		}
		s, err := strconv.Unquote(line[len("[]byte(") : len(line)-1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, []byte(s))
	}
	return out, nil
}

// handWritten are the cases where a JSON library and the contract are most
// likely to part: byte order marks, UTF-16 lookalikes, escapes and
// surrogates, duplicate keys (repeated spellings, many keys, nesting),
// reserved names, depth limits, long numbers, timestamps at their bounds,
// literals, whitespace and characters newer than older Unicode tables.
func handWritten() [][]byte {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	manyKeys := func(n int, dup string, escapeDup bool) string {
		var b strings.Builder
		b.WriteString(`{"id":"m","type":"t","timestamp":1,"data":{`)
		for i := range n {
			fmt.Fprintf(&b, `"k%02d":%d,`, (i*7)%n, i)
		}
		if escapeDup {
			b.WriteString(`"\u006b` + dup[1:] + `":0,`)
		} else {
			b.WriteString(`"` + dup + `":0,`)
		}
		b.WriteString(`"z":1}}`)
		return b.String()
	}
	s := []string{
		`{"id":"a","type":"t","timestamp":1}`,
		`{"id":"a","type":"t","timestamp":0,"data":null}`,
		`{"id":"a","type":"t","timestamp":253402300799999,"data":{}}`,
		`{"id":"a","type":"t","timestamp":253402300800000}`,
		`{"id":"a","type":"t","timestamp":-0}`,
		`{"id":"a","type":"t","timestamp":-1}`,
		`{"id":"a","type":"t","timestamp":-9999999999999999999999}`,
		`{"id":"a","type":"t","timestamp":99999999999999999999999999999999999999999999999999}`,
		`{"id":"a","type":"t","timestamp":1.0}`,
		`{"id":"a","type":"t","timestamp":1E3}`,
		`{"id":"a","type":"t","timestamp":01}`,
		`{"id":"a","type":"t","timestamp":+1}`,
		`{"id":"a","type":"t","timestamp":NaN}`,
		`{"id":"a","type":"t","timestamp":true}`,
		`{"id":"a","type":"t","timestamp":null}`,
		`{"id":"a","type":"t","timestamp":{}}`,
		`{"id":"a","type":"t","timestamp":[]}`,
		`{"id":"a","type":"t","timestamp":1,"timestamp":2}`,
		`{"id":"a","id":"b","type":"t","timestamp":1}`,
		`{"id":"a","type":"t","type":"u","timestamp":1,"data":{},"data":{}}`,
		`{"id":null,"type":false,"timestamp":"x","data":1}`,
		`{"id":[],"type":{},"timestamp":1,"data":true}`,
		`{"\u0069d":"a","ty\u0070e":"t","\u0074\u0069\u006d\u0065\u0073\u0074\u0061\u006d\u0070":1,"d\u0061ta":{"x":1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"x":1,"x":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"x":1,"\u0078":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\u0078":1,"x":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\u0078":1,"\u0078":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":{"y":1,"y":2},"b":{"z":1,"z":1}}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":[{"y":1},{"y":2}],"b":[{"z":1,"z":1}]}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":{"y":1},"a":{"y":2,"y":3}}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"original_timestamp":5,"processing_pipeline":"x","original_timestamp":6}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"x":{"original_timestamp":5,"original_timestamp":6}}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"origin\u0061l_timestamp":5,"y":2}}`,
		`{"id":"a","type":"t","timestamp":1,"x":{"k":1,"k":2},"data":{"q":1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"q":1},"x":{"k":1,"k":2}}`,
		`{"id":"a","type":"t","timestamp":1,"x":1,"x":2}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\ud800":1,"\udc00":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\ud800":1,"\ufffd":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\ud800\u0041":1,"\ufffdA":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"\ud83d\ude00":1,"😀":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"x":"\ud800 lone","y":"\udfff"}}`,
		`{"id":"\ud800","type":"t","timestamp":1}`,
		`{"id":"\ud800","type":"t","timestamp":"no"}`,
		manyKeys(20, "k05", false),
		manyKeys(20, "k05", true),
		manyKeys(40, "k17", false),
		manyKeys(40, "k03", true),
		manyKeys(17, "k16", false),
		manyKeys(30, "zz", false),
		`{"id":"a","type":"t","timestamp":1,"data":{"x":"` + `\u00e9\n\t\"\\\/\b\f\r` + `"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"x":"é 😀 ` + "\u2028\u2029\u00a0\ufeff\x7f" + `"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"n":-0,"m":1.50,"e":1e3,"E":-1.5E-300,"big":123456789012345678901234567890}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"n":` + strings.Repeat("9", 1200) + `}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"n":0.` + strings.Repeat("1", 1200) + `}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("long ", 5000) + `"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"d":` + deep(998, "[", "]") + `}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"d":` + deep(999, "[", "]") + `}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"d":` + deep(997, `{"a":`, "}") + `1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"d":` + strings.Repeat(`{"a":`, 998) + "1" + strings.Repeat("}", 998) + `}}`,
		`{"id":"a","type":"t","timestamp":1,"x":` + deep(999, "[", "]") + `}`,
		`{"id":"a","type":"t","timestamp":1,"x":` + deep(998, "[", "]") + `}`,
		deep(1000, "[", "]"),
		deep(1001, "[", "]"),
		" \t\r\n{ \"id\" : \"a\" ,\n\t\"type\" :\"t\", \"timestamp\" : 1 , \"data\" : { \"a\" : [ 1 , { \"b\" : null } ] , \"c\" : \"s p\" } } \r\n ",
		`{"id":"a","type":"t","timestamp":1,"data":{"a" :1 ,"b": [ ],"c":{ }}}`,
		"\xef\xbb\xbf{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1}",
		"{\x00\"\x00i\x00d\x00\"\x00}",
		"\x00{\x00\"",
		"\x00\x00\x00{",
		"{}\x00\x00",
		`{"id":"a","type":"t","timestamp":1}` + "\x00",
		`{"id":"a","type":"t","timestamp":1}` + "\u00a0",
		`{"id":"a","type":"t","timestamp":1}` + "\ufeff",
		`{"id":"a","type":"t","timestamp":1}` + "\U0001FAE8",
		`{"id":"a","type":"t","timestamp":1}` + "\U00011F00",
		`{"id":"a","type":"t","timestamp":1}` + "\u0378",
		`{"id":"a","type":"t","timestamp":1}` + "\u0085",
		`{"id":"a","type":"t","timestamp":1}` + "'",
		`{"id":"a","type":"t","timestamp":1} {}`,
		`{"id":"a","type":"t","timestamp":1}}`,
		`{"id":"a","type":"t","timestamp":1,}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1,}}`,
		`{"id":"a","type":"t","timestamp":1,"data":[1,]}`,
		`{"id":"a","type":"t","timestamp":1 "data":{}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a" 1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{'a':1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{a:1}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":tru}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":trUe}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":nulll}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":falsey}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":-}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1.}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1e}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1e+}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":.5}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":00}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":0x1F}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":Infinity}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":-Infinity}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1/*c*/}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1}//c` + "\n}",
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1}#c` + "\n}",
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\x"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\u12"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\u12G4"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\U0041"}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\'"}}`,
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"tab\there\"}}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"nl\nhere\"}}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"k\x01\":1}}",
		"{\"id\":\"a\x00\",\"type\":\"t\",\"timestamp\":1}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":1}\x0b}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":1}\f}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"\x7f\"}}",
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"unterminated}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"esc\`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":"\u00`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a"`,
		`{"id":"a","type":"t","timestamp":1,"data":{`,
		`{"id":"a","type":"t","timestamp":1,"data":[`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1`,
		`{"id":"a","type":"t","timestamp":1,"data":[1`,
		`{"id":"a","type":"t","timestamp":12`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":t`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":-`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1.`,
		`{"id":"a","type":"t","timestamp":1,"data":{"a":1e`,
		`{"id"`,
		`{"id":`,
		`{"id":"a"`,
		`{`,
		`{"`,
		`[`,
		`"`,
		`"abc`,
		`tru`,
		`t`,
		`nul`,
		`-`,
		`1`,
		`-0`,
		`1.5`,
		`true`,
		`null`,
		`""`,
		`{}`,
		`[]`,
		`{"a":1}`,
		` `,
		"\n\t\r ",
		`}`,
		`]`,
		`:`,
		`,`,
		`x`,
		"\u00e9",
		"\U0001F600",
		"\ufeff",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"" + string([]byte{0xed, 0xa0, 0x80}) + "\"}}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"" + string([]byte{0xc0, 0xaf}) + "\"}}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"" + string([]byte{0xf4, 0x90, 0x80, 0x80}) + "\"}}",
		"{\"id\":\"a\",\"type\":\"t\",\"timestamp\":1,\"data\":{\"a\":\"" + string([]byte{0xe2, 0x82}) + "\"}}",
		"ok\xe2\x82",
		`{"id":"` + strings.Repeat("\\\"", 40) + `","type":"t","timestamp":1,"data":{"` + strings.Repeat("\\\"", 40) + `":1,"` + strings.Repeat("\\\"", 40) + `":2}}`,
		`{"id":"a","type":"t","timestamp":1,"data":{"` + strings.Repeat("é", 40) + `":1,"` + strings.Repeat("é", 40) + `":2}}`,
		`{"id":"a","type":"t","timestamp":"` + strings.Repeat("x", 100) + `"}`,
		`{"id":"a","type":"t","timestamp":` + strings.Repeat("1", 60) + `}`,
		`{"id":"a","type":"t","timestamp":1.` + strings.Repeat("1", 60) + `}`,
		`{"id":"a","type":"t","timestamp":-` + strings.Repeat("1", 60) + `}`,
		`{"id":"a","type":"t","timestamp":-000}`,
	}
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}
