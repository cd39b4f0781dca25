package examples

import (
	"testing"
	"time"

	"github.com/event-processor/event-processor/schema"
)

var now = time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)

// TestMixed keeps the generated input what the tests and benchmarks rely on: deterministic, about 250 bytes a valid event, and a tenth invalid by
// the event contract.
func TestMixed(t *testing.T) {
	const n = 10_000
	a, b := Mixed(n, 1), Mixed(n, 1)
	tf, err := schema.New(schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var valid, validBytes int
	for i := range a {
		if string(a[i]) != string(b[i]) {
			t.Fatalf("input %d differs between two calls with the same seed", i)
		}
		res := tf.Transform(nil, a[i], schema.Source{}, now)
		if want := i%10 == 9; res.IsError != want {
			t.Errorf("input %d (%.80q): error event %v, want %v: %s", i, a[i], res.IsError, want, res.Value)
		}
		if !res.IsError {
			valid++
			validBytes += len(a[i])
		}
	}
	if avg := validBytes / valid; avg < 220 || avg > 280 {
		t.Errorf("valid events average %d bytes, want about 250", avg)
	}
	for _, v := range Invalid {
		if res := tf.Transform(nil, v, schema.Source{}, now); !res.IsError {
			t.Errorf("invalid event %.80q was accepted: %s", v, res.Value)
		}
	}
}
