package processor

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestProvenanceRoundTrip(t *testing.T) {
	p := newTestProcessor(t)
	in := &kgo.Record{Topic: "input-events", Partition: 7, Offset: 123456789012, Value: []byte("nope"),
		Headers: []kgo.RecordHeader{{Key: HeaderSourceOffset, Value: []byte("1")}}} // a stale one, replaced
	r, _ := p.router.Load().Route(in)
	got, err := Provenance(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Source{Topic: "input-events", Partition: 7, Offset: 123456789012}); got != want {
		t.Errorf("Provenance = %v, want %v", got, want)
	}
}

func TestProvenanceErrors(t *testing.T) {
	h := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	const T, P, O = HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset
	for _, tc := range []struct {
		name    string
		headers []kgo.RecordHeader
		header  string // the *ProvenanceError's header; "" for ErrNoProvenance
	}{
		{"none", h("trace-id", "1"), ""},
		{"no offset", h(T, "in", P, "0"), O},
		{"no topic", h(P, "0", O, "1"), T},
		{"empty topic", h(T, "", P, "0", O, "1"), T},
		{"repeated offset", h(T, "in", P, "0", O, "1", O, "2"), O},
		{"negative partition", h(T, "in", P, "-1", O, "1"), P},
		{"partition too big", h(T, "in", P, "4294967296", O, "1"), P},
		{"offset not a number", h(T, "in", P, "0", O, "1x"), O},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Provenance(&kgo.Record{Headers: tc.headers})
			var pe *ProvenanceError
			switch {
			case tc.header == "" && !errors.Is(err, ErrNoProvenance):
				t.Errorf("err = %v, want ErrNoProvenance", err)
			case tc.header != "" && (!errors.As(err, &pe) || pe.Header != tc.header):
				t.Errorf("err = %v, want a ProvenanceError on %s", err, tc.header)
			}
		})
	}
}

func TestDecimalLen(t *testing.T) {
	for _, v := range []int64{0, 7, -7, 9, 10, -10, 99, 100, 123456789012, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32} {
		if got, want := decimalLen(v), len(strconv.AppendInt(nil, v, 10)); got != want {
			t.Errorf("decimalLen(%d) = %d, want %d", v, got, want)
		}
	}
}
