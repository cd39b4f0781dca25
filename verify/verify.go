// Package verify checks a processor's results against its input: that every
// input record in a range has exactly one result, on the topic the event
// contract routes it to, with the value, key and headers the processor
// makes of it, in input order per input partition. It reads under
// read_committed, as a downstream consumer does, and traces each result to
// its input through the provenance headers (processor.Provenance).
//
// Memory is bounded by the input's offset range, not by the records: a
// state byte and a 64-bit fingerprint of the expected result per input
// offset, whatever the size of the records. Results are checked as they are
// read and never kept.
//
// The demo, the integration tests, the benchmarks and `ktool verify` all
// check exactly-once through this package; it also holds the pieces they
// share: reading a topic to its end offsets (Read) and waiting until a
// group has committed up to given offsets (AwaitCommitted).
package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"time"

	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/schema"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kind is a kind of violation of exactly-once.
type Kind int

// The kinds of violation, in the order reports list them.
const (
	// Missing: an input with no result.
	Missing Kind = iota
	// Duplicated: a second (or later) result of one input.
	Duplicated
	// Orphaned: a result whose input does not exist: no provenance
	// headers, another topic, a partition the input topic lacks, or an
	// offset that holds no input record (a transaction marker, an aborted
	// record, beyond the end).
	Orphaned
	// Mismatched: a result on the right topic whose value (ignoring the
	// processing time and delay), key or headers are not what the
	// processor makes of its input.
	Mismatched
	// Misrouted: a valid input's result on the error topic, or an invalid
	// input's on the output topic.
	Misrouted
	// OutOfOrder: a result of an input partition that follows, in its
	// result partition, a result of a later input of that partition.
	OutOfOrder
	numKinds
)

var kindNames = [numKinds]string{"missing", "duplicated", "orphaned", "mismatched", "misrouted", "out_of_order"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Kinds lists every kind in report order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// Position is one end of an input range: an offset in every partition, or
// the first record at or after a time.
type Position struct {
	Offset int64     // used when Time is zero
	Time   time.Time // the first offset whose timestamp is at or after Time
}

// Config says what to verify.
type Config struct {
	// Processor is the processor's configuration: its input, output and
	// error topics, pipeline name and --max-record-bytes. Brokers and the
	// other options are not used.
	Processor processor.Config
	// Start and End bound the input range, End exclusive; nil means each
	// partition's log start and its end offset when Run begins.
	Start, End *Position
	// Group, when set, is waited for: Run waits until it has committed
	// every input in the range before it reads the results (bounded by
	// ctx).
	Group string
	// Examples is how many violations of each kind the report keeps, with
	// their coordinates (default 5; negative keeps none).
	Examples int
	// Limit, when positive, is the record size limit the processor ran
	// with; 0 reads it from the topics as the processor does
	// (processor.RecordLimit).
	Limit int
}

// Coordinates locate one record.
type Coordinates struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

func (c Coordinates) String() string { return fmt.Sprintf("%s/%d@%d", c.Topic, c.Partition, c.Offset) }

// Violation is one example of a kind of violation.
type Violation struct {
	Kind Kind `json:"-"`
	// Input is the input record concerned; nil for an orphan that names
	// none.
	Input *Coordinates `json:"input,omitempty"`
	// Result is the result record concerned; nil for a missing result.
	Result *Coordinates `json:"result,omitempty"`
	Detail string       `json:"detail"`
}

func (v Violation) String() string {
	s := v.Kind.String()
	if v.Input != nil {
		s += " input " + v.Input.String()
	}
	if v.Result != nil {
		s += " result " + v.Result.String()
	}
	return s + ": " + v.Detail
}

// Report is the outcome of a verification.
type Report struct {
	InputTopic, OutputTopic, ErrorTopic string
	// Range is the input range checked, per partition: [Start, End).
	Start, End Offsets
	// Inputs is the number of input records in the range; Valid of them
	// are events the contract makes an output of.
	Inputs, Valid int64
	// Outputs and Errors are the results read on the output and error
	// topics that trace to an input in the range (first and later results
	// alike); ErrorTypes counts the error events by errorType.
	Outputs, Errors int64
	ErrorTypes      map[string]int64
	// Outside is the number of results of inputs outside the range: before
	// its start, or at or after its end (inputs that arrived since).
	Outside int64
	// Counts is the number of violations of each kind; Examples holds the
	// first few of each.
	Counts   [numKinds]int64
	Examples [numKinds][]Violation
}

// Violations is the total of every kind.
func (r *Report) Violations() int64 {
	var n int64
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// OK reports whether every input in the range has exactly one result, as
// the contract makes it, and nothing else is there.
func (r *Report) OK() bool { return r.Violations() == 0 }

// Count returns the number of violations of kind k.
func (r *Report) Count(k Kind) int64 { return r.Counts[k] }

// Input states, one byte per offset in the range.
const (
	statePresent = 1 << iota // a data record of the input is at this offset
	stateError               // the contract routes it to the error topic
	countShift   = 4         // bits 4-5: results seen, 0..3 (saturating)
	countMask    = 3 << countShift
)

// partition is the state of one input partition's range.
type partition struct {
	start, end int64
	state      []uint8
	want       []uint64 // fingerprint of the expected result
}

// Run verifies: it lists the input range, reads the input in it, waits for
// cfg.Group if set, then reads the output and error topics to their end
// offsets and checks every result. opts connect to the cluster (seed
// brokers, TLS, SASL). An error means the check could not be completed; a
// completed check with violations is a Report that is not OK.
func Run(ctx context.Context, opts []kgo.Opt, cfg Config) (*Report, error) {
	pc := cfg.Processor
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	limit := cfg.Limit
	if limit <= 0 {
		if limit, err = processor.RecordLimit(ctx, adm, pc); err != nil {
			return nil, err
		}
	}
	// The expected results are made at one fixed time; comparisons ignore
	// the processing time.
	at := time.Now()
	router, err := processor.NewRouter(pc, limit, func() time.Time { return at })
	if err != nil {
		return nil, err
	}
	starts, ends, err := inputRange(ctx, adm, pc.InputTopic, cfg.Start, cfg.End)
	if err != nil {
		return nil, err
	}
	c := newChecker(pc, router, starts, ends, cfg.Examples)
	if err := Read(ctx, opts, pc.InputTopic, starts, ends, kgo.ReadCommitted(), c.input); err != nil {
		return nil, err
	}
	if cfg.Group != "" {
		if err := AwaitCommitted(ctx, adm, cfg.Group, pc.InputTopic, c.lastInputs(), nil); err != nil {
			return nil, err
		}
	}
	outputEnds, err := EndOffsets(ctx, adm, pc.OutputTopic)
	if err != nil {
		return nil, err
	}
	errorEnds, err := EndOffsets(ctx, adm, pc.ErrorTopic)
	if err != nil {
		return nil, err
	}
	// Listed after the results' ends: every input of a result read below
	// was written before its result, so it lies below these ends, and a
	// result naming an offset at or above them is an orphan, not a result
	// of an input that arrived since the range was taken.
	if c.endsNow, err = EndOffsets(ctx, adm, pc.InputTopic); err != nil {
		return nil, err
	}
	for _, rd := range []struct {
		topic string
		ends  Offsets
	}{{pc.OutputTopic, outputEnds}, {pc.ErrorTopic, errorEnds}} {
		if err := Read(ctx, opts, rd.topic, nil, rd.ends, kgo.ReadCommitted(), c.result); err != nil {
			return nil, err
		}
	}
	return c.finish(), nil
}

// inputRange resolves the range's ends to offsets per partition.
func inputRange(ctx context.Context, adm *kadm.Client, topic string, start, end *Position) (starts, ends Offsets, err error) {
	logStarts, err := StartOffsets(ctx, adm, topic)
	if err != nil {
		return nil, nil, err
	}
	logEnds, err := EndOffsets(ctx, adm, topic)
	if err != nil {
		return nil, nil, err
	}
	resolve := func(pos *Position, dflt Offsets) (Offsets, error) {
		if pos == nil {
			return dflt, nil
		}
		var at Offsets
		if !pos.Time.IsZero() {
			var err error
			if at, err = OffsetsAfter(ctx, adm, topic, pos.Time); err != nil {
				return nil, err
			}
		}
		out := make(Offsets, len(logEnds))
		for p, e := range logEnds {
			o := pos.Offset
			if at != nil {
				o = at[p]
			}
			out[p] = min(max(o, logStarts[p]), e)
		}
		return out, nil
	}
	if starts, err = resolve(start, logStarts); err != nil {
		return nil, nil, err
	}
	if ends, err = resolve(end, logEnds); err != nil {
		return nil, nil, err
	}
	for p := range ends {
		ends[p] = max(ends[p], starts[p])
	}
	return starts, ends, nil
}

// checker accumulates a Report from the input, then the results.
type checker struct {
	inTopic, output, errors string
	router                  *processor.Router
	parts                   map[int32]*partition
	endsNow                 Offsets
	order                   map[orderKey]int64 // last input offset seen per result partition and input partition
	examples                int
	seed                    maphash.Seed
	buf                     []byte
	r                       *Report
}

type orderKey struct {
	resultTopic     bool // false: output, true: error topic
	resultPartition int32
	inputPartition  int32
}

func newChecker(pc processor.Config, rt *processor.Router, starts, ends Offsets, examples int) *checker {
	if examples == 0 {
		examples = 5
	}
	c := &checker{
		inTopic: pc.InputTopic, output: pc.OutputTopic, errors: pc.ErrorTopic,
		router: rt, parts: make(map[int32]*partition), order: make(map[orderKey]int64),
		examples: examples, seed: maphash.MakeSeed(),
		r: &Report{InputTopic: pc.InputTopic, OutputTopic: pc.OutputTopic, ErrorTopic: pc.ErrorTopic,
			Start: starts, End: ends, ErrorTypes: make(map[string]int64)},
	}
	for p, end := range ends {
		start := starts[p]
		n := max(end-start, 0)
		c.parts[p] = &partition{start: start, end: end, state: make([]uint8, n), want: make([]uint64, n)}
	}
	return c
}

// input records one input record and its expected result.
func (c *checker) input(in *kgo.Record) {
	pt := c.parts[in.Partition]
	if pt == nil || in.Offset < pt.start || in.Offset >= pt.end {
		return
	}
	i := in.Offset - pt.start
	want, res := c.router.Route(in)
	st := uint8(statePresent)
	if res.IsError {
		st |= stateError
	} else {
		c.r.Valid++
	}
	pt.state[i] = st
	pt.want[i] = c.fingerprint(want)
	c.r.Inputs++
}

// lastInputs returns, per partition, the offset after its last input
// record in the range: what a group that consumed them all has committed
// (a transaction marker after the last record is never consumed, so it is
// not waited for).
func (c *checker) lastInputs() Offsets {
	out := make(Offsets, len(c.parts))
	for p, pt := range c.parts {
		for i := len(pt.state) - 1; i >= 0; i-- {
			if pt.state[i]&statePresent != 0 {
				out[p] = pt.start + int64(i) + 1
				break
			}
		}
	}
	return out
}

// result checks one record of the output or error topic.
func (c *checker) result(r *kgo.Record) {
	onErrors := r.Topic == c.errors
	at := Coordinates{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	src, err := processor.Provenance(r)
	if err != nil {
		c.violate(Violation{Kind: Orphaned, Result: &at, Detail: err.Error()})
		return
	}
	in := Coordinates{Topic: src.Topic, Partition: src.Partition, Offset: src.Offset}
	if src.Topic != c.inTopic {
		c.violate(Violation{Kind: Orphaned, Input: &in, Result: &at, Detail: fmt.Sprintf("names topic %q, not the input topic %q", src.Topic, c.inTopic)})
		return
	}
	pt := c.parts[src.Partition]
	if pt == nil {
		c.violate(Violation{Kind: Orphaned, Input: &in, Result: &at, Detail: fmt.Sprintf("the input topic has no partition %d", src.Partition)})
		return
	}
	if end := c.endsNow[src.Partition]; src.Offset >= end {
		c.violate(Violation{Kind: Orphaned, Input: &in, Result: &at, Detail: fmt.Sprintf("beyond the input partition's end offset %d", end)})
		return
	}
	if src.Offset < pt.start || src.Offset >= pt.end {
		c.r.Outside++
		return
	}
	i := src.Offset - pt.start
	st := pt.state[i]
	if st&statePresent == 0 {
		c.violate(Violation{Kind: Orphaned, Input: &in, Result: &at, Detail: "no input record at that offset (a transaction marker or a record of an aborted transaction)"})
		return
	}
	if onErrors {
		c.r.Errors++
		if t := errorType(r.Value); t != "" {
			c.r.ErrorTypes[t]++
		}
	} else {
		c.r.Outputs++
	}
	n := (st & countMask) >> countShift
	if n < 3 {
		pt.state[i] = st&^countMask | (n+1)<<countShift
	}
	if n > 0 {
		c.violate(Violation{Kind: Duplicated, Input: &in, Result: &at, Detail: fmt.Sprintf("another result of this input (its %s)", ordinal(n+1))})
	} else {
		k := orderKey{onErrors, r.Partition, src.Partition}
		if last, ok := c.order[k]; ok && src.Offset < last {
			c.violate(Violation{Kind: OutOfOrder, Input: &in, Result: &at,
				Detail: fmt.Sprintf("follows the result of input offset %d in %s/%d", last, r.Topic, r.Partition)})
		} else {
			c.order[k] = src.Offset
		}
	}
	wantErr := st&stateError != 0
	switch {
	case wantErr != onErrors:
		want := c.output
		if wantErr {
			want = c.errors
		}
		c.violate(Violation{Kind: Misrouted, Input: &in, Result: &at, Detail: fmt.Sprintf("on %s; the contract routes this input to %s", r.Topic, want)})
	case c.fingerprint(r) != pt.want[i]:
		c.violate(Violation{Kind: Mismatched, Input: &in, Result: &at, Detail: "value, key or headers differ from what the processor makes of the input (processing time ignored)"})
	}
}

// finish counts the inputs without a result and returns the report.
func (c *checker) finish() *Report {
	for _, p := range slices.Sorted(maps.Keys(c.parts)) {
		pt := c.parts[p]
		for i, st := range pt.state {
			if st&statePresent != 0 && st&countMask == 0 {
				in := Coordinates{Topic: c.inTopic, Partition: p, Offset: pt.start + int64(i)}
				c.violate(Violation{Kind: Missing, Input: &in, Detail: "no result on either topic"})
			}
		}
	}
	return c.r
}

func (c *checker) violate(v Violation) {
	c.r.Counts[v.Kind]++
	if len(c.r.Examples[v.Kind]) < c.examples {
		c.r.Examples[v.Kind] = append(c.r.Examples[v.Kind], v)
	}
}

// fingerprint hashes what a result must match: key, headers other than the
// provenance (which locate the input instead) and the value without its
// processing time.
func (c *checker) fingerprint(r *kgo.Record) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	field := func(b []byte) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutVarint(n[:], int64(len(b)))])
		h.Write(b)
	}
	if r.Key == nil {
		h.WriteByte(0)
	} else {
		h.WriteByte(1)
		field(r.Key)
	}
	for _, hd := range r.Headers {
		switch hd.Key {
		case processor.HeaderSourceTopic, processor.HeaderSourcePartition, processor.HeaderSourceOffset:
			continue
		}
		h.WriteByte(2)
		field([]byte(hd.Key))
		field(hd.Value)
	}
	h.WriteByte(3)
	c.buf = schema.AppendTimeless(c.buf[:0], r.Value)
	field(c.buf)
	return h.Sum64()
}

// errorType reads an error event's errorType.
func errorType(v []byte) string {
	const member = `","errorType":"`
	i := bytes.Index(v, []byte(member))
	if i < 0 {
		return ""
	}
	v = v[i+len(member):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// ordinal is "2nd", "3rd", and "4th or later" from 4 on (the count
// saturates there).
func ordinal(n uint8) string {
	switch n {
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return "4th or later"
}
