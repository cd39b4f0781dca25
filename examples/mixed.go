package examples

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Invalid holds inputs that must become error events, at least one of each
// kind the event contract names; Mixed draws a tenth of its inputs from them.
var Invalid = [][]byte{
	[]byte("this is not valid JSON"),
	nil,                          // tombstone
	[]byte("   "),                // whitespace only
	[]byte("\xff\xfe{\"id\":1}"), // not UTF-8
	[]byte(`{"id":"a","type":"t","timestamp":1} trailing`),
	[]byte(`[1,2,3]`),
	[]byte(`"just a string"`),
	[]byte(`{"type":"t","timestamp":1}`),
	[]byte(`{"id":7,"type":"t","timestamp":1}`),
	[]byte(`{"id":"","type":"t","timestamp":1}`),
	[]byte(`{"id":"a","timestamp":1}`),
	[]byte(`{"id":"a","type":"","timestamp":1}`),
	[]byte(`{"id":"a","type":"t"}`),
	[]byte(`{"id":"a","type":"t","timestamp":"1733328000000"}`),
	[]byte(`{"id":"a","type":"t","timestamp":1.5}`),
	[]byte(`{"id":"a","type":"t","timestamp":1e12}`),
	[]byte(`{"id":"a","type":"t","timestamp":-1}`),
	[]byte(`{"id":"a","type":"t","timestamp":1,"data":"x"}`),
	[]byte(`{"id":"a","type":"t","timestamp":1,"data":[1]}`),
	[]byte(strings.Repeat("[", 1001) + strings.Repeat("]", 1001)),   // one level too deep
	[]byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)), // far too deep
	[]byte(`{"id":"a","type":"t","timestamp":1,`),
}

// Mixed returns n inputs, the same for the same seed: 90% valid events
// of about 250 bytes in four shapes, and every tenth input an invalid one.
func Mixed(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	types := []string{"user-action", "page-view", "purchase", "signup"}
	out := make([][]byte, n)
	for i := range out {
		if i%10 == 9 {
			out[i] = Invalid[rng.IntN(len(Invalid))]
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
