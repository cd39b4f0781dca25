package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/schema"
)

// invalidEvents are the inputs that must become error events, one of each
// kind the contract names; each event mix draws a tenth of its inputs from
// them.
var invalidEvents = [][]byte{
	[]byte("this is not valid JSON"),
	nil,                          // tombstone
	[]byte("   "),                // whitespace only
	[]byte("\xff\xfe{\"id\":1}"), // not UTF-8
	[]byte(`{"id":"a","type":"t","timestamp":1} trailing`),
	[]byte(`[1,2,3]`),
	[]byte(`{"type":"t","timestamp":1}`),
	[]byte(`{"id":7,"type":"t","timestamp":1}`),
	[]byte(`{"id":"","type":"t","timestamp":1}`),
	[]byte(`{"id":"a","timestamp":1}`),
	[]byte(`{"id":"a","type":"t"}`),
	[]byte(`{"id":"a","type":"t","timestamp":"1733328000000"}`),
	[]byte(`{"id":"a","type":"t","timestamp":1.5}`),
	[]byte(`{"id":"a","type":"t","timestamp":-1}`),
	[]byte(`{"id":"a","type":"t","timestamp":1,"data":"x"}`),
	[]byte(strings.Repeat("[", 1001) + strings.Repeat("]", 1001)), // one level too deep
	[]byte(`{"id":"a","type":"t","timestamp":1,`),
}

// benchNow is the processing time of the generator's unit test.
var benchNow = time.Date(2024, 12, 4, 15, 30, 0, 0, time.UTC)

// mixedEvents returns n inputs, the same for the same seed: 90% valid events
// of about 250 bytes in four shapes, and every tenth input an invalid one.
func mixedEvents(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	types := []string{"user-action", "page-view", "purchase", "signup"}
	out := make([][]byte, n)
	for i := range out {
		if i%10 == 9 {
			out[i] = invalidEvents[rng.IntN(len(invalidEvents))]
			continue
		}
		ts := int64(1733328000000) + int64(rng.IntN(1_000_000_000))
		id := fmt.Sprintf("evt-%08x-%04x-4%03x-%04x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<16), rng.Uint64()>>16)
		switch rng.IntN(4) {
		case 0:
			out[i] = fmt.Appendf(nil, `{"id":%q,"type":%q,"timestamp":%d,"data":{"action":"click","userId":%d,"page":"/products/%d","sessionId":"s-%08x","amount":%d.%02d,"tags":["promo","mobile"],"geo":{"country":"DE","city":"Berlin"}}}`,
				id, types[rng.IntN(4)], ts, rng.IntN(1e6), rng.IntN(1e5), rng.Uint32(), rng.IntN(500), rng.IntN(100))
		case 1:
			out[i] = fmt.Appendf(nil, `{"id":%q,"type":"page-view","timestamp":%d,"data":{"url":"https://shop.example.com/category/%d?ref=newsletter&utm_source=mail","referrer":"https://www.example.org/","durationMs":%d,"viewport":{"w":1280,"h":720}}}`,
				id, ts, rng.IntN(1e4), rng.IntN(60_000))
		case 2:
			out[i] = fmt.Appendf(nil, `{"timestamp":%d, "data": {"amount": 1.50, "big": 12345678901234567890, "currency": "EUR", "items": [{"sku": "A-%d", "qty": %d}], "tags": ["a", "\u00e9"], "nested": {"x": null}}, "type": "purchase", "id": %q, "extra": true}`,
				ts, rng.IntN(1e6), 1+rng.IntN(9), id)
		default:
			out[i] = fmt.Appendf(nil, `{"id":%q,"type":"signup","timestamp":%d,"source":"web","data":{"plan":"pro","referral":null,"email":"user%d@example.com","consents":{"marketing":false,"terms":true}}}`,
				id, ts, rng.IntN(1e7))
		}
	}
	return out
}

// TestMixedEvents keeps the benchmark input what docs/benchmarks.md says it
// is: deterministic, about 250 bytes a valid event, and a tenth invalid by
// the event contract.
func TestMixedEvents(t *testing.T) {
	const n = 10_000
	a, b := mixedEvents(n, 1), mixedEvents(n, 1)
	tf, err := schema.New(schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var valid, validBytes int
	for i := range a {
		if string(a[i]) != string(b[i]) {
			t.Fatalf("input %d differs between two calls with the same seed", i)
		}
		res := tf.Transform(nil, a[i], schema.Source{}, benchNow)
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
	for _, v := range invalidEvents {
		if res := tf.Transform(nil, v, schema.Source{}, benchNow); !res.IsError {
			t.Errorf("invalid event %.80q was accepted: %s", v, res.Value)
		}
	}
}
