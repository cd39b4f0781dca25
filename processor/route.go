package processor

import (
	"fmt"
	"strconv"
	"time"

	"github.com/event-processor/event-processor/schema"
	"github.com/twmb/franz-go/pkg/kgo"
)

// keyHeaderRoom is the part of recordOverhead kept for the input's key and
// headers; the rest is for the provenance headers and the record's framing.
const keyHeaderRoom = recordOverhead - 512

// Router maps one input record to its one result record: the event or
// error event the contract makes of its value, on the output or error
// topic, with the input's key (else the event id, else the input's
// coordinates, so that every record has a key) and headers and the
// provenance headers. Build it with NewRouter once the record size limit is
// known; it is safe for concurrent use.
type Router struct {
	output, errors string
	pipeline       string
	limit          int // the record size limit
	tf             *schema.Transformer
	now            func() time.Time
}

// NewRouter returns the router for cfg's topics and pipeline name under a
// record size limit (--max-record-bytes lowered to the output and error
// topics' max.message.bytes). now is the processing clock; nil means
// time.Now.
func NewRouter(cfg Config, limit int, now func() time.Time) (*Router, error) {
	tf, err := cfg.Transformer(limit)
	if err != nil {
		return nil, fmt.Errorf("the record limit %d leaves too little room for events: %w", limit, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Router{output: cfg.OutputTopic, errors: cfg.ErrorTopic, pipeline: cfg.PipelineName, limit: limit, tf: tf, now: now}, nil
}

// Limit is the record size limit the router keeps every record under.
func (rt *Router) Limit() int { return rt.limit }

// KeyHeaders says what became of an input's key and headers.
type KeyHeaders int

const (
	// Carried: the result has the input's key and headers as they are.
	Carried KeyHeaders = iota
	// Shrunk: they are carried, but they need more than the room kept
	// for them (keyHeaderRoom), so the event gets a smaller size budget
	// (an output that no longer fits becomes OUTPUT_TOO_LARGE).
	Shrunk
	// Dropped: they are so large that the event would have less than the
	// smallest budget; the result carries neither (its key is the event
	// id, else the input's coordinates).
	Dropped
)

func (k KeyHeaders) String() string {
	switch k {
	case Shrunk:
		return "shrunk"
	case Dropped:
		return "dropped"
	}
	return "carried"
}

// Route returns the result record for in and what the contract made of it.
func (rt *Router) Route(in *kgo.Record) (*kgo.Record, schema.Result) {
	r, res, _, _ := rt.RouteDetail(in)
	return r, res
}

// RouteDetail is Route, and also says what became of the input's key and
// headers and how many bytes they take (each header counted with 8 bytes
// of framing).
func (rt *Router) RouteDetail(in *kgo.Record) (*kgo.Record, schema.Result, KeyHeaders, int) {
	src := schema.Source{Topic: in.Topic, Partition: in.Partition, Offset: in.Offset, Known: true}
	keep := len(in.Key) // bytes of the input's key and headers carried over
	for _, h := range in.Headers {
		keep += len(h.Key) + len(h.Value) + 8
	}
	size := keep
	if len(in.Key) == 0 {
		// Room for the key of last resort, the input's coordinates, so
		// that it always fits; made only if it is used.
		keep += maxSourceKeyBytes(in) + 8
	}
	tf, carry, shrunk := rt.tf, true, false
	if keep > keyHeaderRoom {
		// The key and headers need more than the reserved room: shrink the
		// event's budget by the excess, or, where that would leave too
		// little, drop them (the provenance headers still identify the
		// input).
		if budget := rt.limit - 512 - keep; budget >= schema.MinMaxRecordBytes {
			tf, _ = schema.New(schema.Options{PipelineName: rt.pipeline, MaxRecordBytes: budget})
			shrunk = true
		} else {
			carry, keep = false, 0
		}
	}
	res := tf.Transform(nil, in.Value, src, rt.now())

	var r *kgo.Record
	if n := len(in.Headers) + 3; n <= len(routed{}.headers) {
		rr := new(routed)
		r = &rr.rec
		r.Headers = rr.headers[:0]
	} else {
		r = &kgo.Record{Headers: make([]kgo.RecordHeader, 0, n)}
	}
	r.Topic, r.Value = rt.output, res.Value
	if res.IsError {
		r.Topic = rt.errors
	}
	switch {
	case carry && len(in.Key) > 0:
		r.Key = in.Key
	case len(res.ID) > 0 && !shrunk && keep+len(res.ID)+8 <= keyHeaderRoom:
		// No input key: the event id, where it fits in the room left.
		r.Key = res.ID
	default:
		// Neither: the input's coordinates, so that every record has a
		// key (a compacted topic refuses records without one) and the
		// key names the one input it came from.
		r.Key = sourceKey(in)
	}
	if carry {
		for _, h := range in.Headers {
			if isProvenance(h.Key) {
				continue // replaced below, so each record names one input
			}
			r.Headers = append(r.Headers, h)
		}
	}
	r.Headers = appendProvenance(r.Headers, in)
	handled := Carried
	switch {
	case !carry:
		handled = Dropped
	case shrunk:
		handled = Shrunk
	}
	return r, res, handled, size
}

// routed is a result record and room for its headers, allocated together:
// one allocation instead of two for an input with at most one header of its
// own (a trace id, say) besides the three provenance headers. Both fit one
// 320-byte size class.
type routed struct {
	rec     kgo.Record
	headers [4]kgo.RecordHeader
}

// maxSourceKeyBytes bounds len(sourceKey(in)) without making it: the
// topic, two separators and the longest partition and offset.
func maxSourceKeyBytes(in *kgo.Record) int { return len(in.Topic) + 2 + 10 + 19 }

// sourceKey is an input's coordinates as a record key,
// "input-events/2@17": at most 249+1+10+1+19 bytes.
func sourceKey(in *kgo.Record) []byte {
	k := make([]byte, 0, len(in.Topic)+32)
	k = append(k, in.Topic...)
	k = append(k, '/')
	k = strconv.AppendInt(k, int64(in.Partition), 10)
	k = append(k, '@')
	return strconv.AppendInt(k, in.Offset, 10)
}
