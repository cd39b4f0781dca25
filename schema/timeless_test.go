package schema

import (
	"bytes"
	"testing"
	"time"
)

func TestAppendTimeless(t *testing.T) {
	tf, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)
	t2 := t1.Add(1234567 * time.Millisecond)
	src := Source{Topic: "in", Partition: 1, Offset: 2, Known: true}
	for _, raw := range []string{
		`{"id":"a","type":"t","timestamp":1,"data":{"processedAt":"x","n":1}}`,
		`{"id":"a\",\"processedAt\":\"","type":"t","timestamp":1733328000000}`,
		`not json ","timestamp":"`,
		`{"id":"a","type":"t"}`,
		"\xff\xfe",
		``,
	} {
		a := tf.Transform(nil, []byte(raw), src, t1).Value
		b := tf.Transform(nil, []byte(raw), src, t2).Value
		if bytes.Equal(a, b) {
			t.Fatalf("%q: the two processing times gave equal events; the test shows nothing", raw)
		}
		ta, tb := AppendTimeless(nil, a), AppendTimeless(nil, b)
		if !bytes.Equal(ta, tb) {
			t.Errorf("%q: timeless forms differ:\n%s\n%s", raw, ta, tb)
		}
		for _, field := range []string{`"processedAt":"2024`, `"processingDelay"`, `"timestamp":"2024`} {
			if bytes.Contains(ta, []byte(field)) {
				t.Errorf("%q: timeless form still holds %s: %s", raw, field, ta)
			}
		}
	}
	// Anything else that differs still shows.
	for _, pair := range [][2]string{
		{`{"id":"a","type":"t","timestamp":1}`, `{"id":"b","type":"t","timestamp":1}`},
		{`{"id":"a","type":"t","timestamp":1}`, `{"id":"a","type":"t","timestamp":2}`},
		{`nope`, `nopf`},
	} {
		a := AppendTimeless(nil, tf.Transform(nil, []byte(pair[0]), src, t1).Value)
		b := AppendTimeless(nil, tf.Transform(nil, []byte(pair[1]), src, t1).Value)
		if bytes.Equal(a, b) {
			t.Errorf("%q and %q have the same timeless form %s", pair[0], pair[1], a)
		}
	}
	if got := AppendTimeless([]byte("x"), []byte(`{"other":1}`)); string(got) != `x{"other":1}` {
		t.Errorf("a value that is no event: %s", got)
	}
}
