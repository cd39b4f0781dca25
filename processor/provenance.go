package processor

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Provenance headers, on every produced record: the input record's topic,
// partition and offset (decimal), which identify it exactly once. Provenance
// reads them back; the two sit side by side so that they cannot drift apart.
const (
	HeaderSourceTopic     = "source.topic"
	HeaderSourcePartition = "source.partition"
	HeaderSourceOffset    = "source.offset"
)

// Source is the input record a result was made from.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
}

func (s Source) String() string { return fmt.Sprintf("%s/%d@%d", s.Topic, s.Partition, s.Offset) }

// ErrNoProvenance is wrapped by Provenance's error for a record that carries
// none of the provenance headers: it was not written by the processor.
var ErrNoProvenance = errors.New("no provenance headers (source.topic, source.partition, source.offset)")

// ProvenanceError is a record whose provenance headers are incomplete,
// repeated or malformed.
type ProvenanceError struct {
	Header string // the header at fault
	Reason string
}

func (e *ProvenanceError) Error() string {
	return fmt.Sprintf("provenance header %s %s", e.Header, e.Reason)
}

// appendProvenance appends the provenance headers naming in to hs. The three
// values share one buffer: one allocation instead of three per record.
func appendProvenance(hs []kgo.RecordHeader, in *kgo.Record) []kgo.RecordHeader {
	buf := make([]byte, 0, len(in.Topic)+decimalLen(int64(in.Partition))+decimalLen(in.Offset))
	buf = append(buf, in.Topic...)
	t := len(buf)
	buf = strconv.AppendInt(buf, int64(in.Partition), 10)
	p := len(buf)
	buf = strconv.AppendInt(buf, in.Offset, 10)
	return append(hs,
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: buf[:t:t]},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: buf[t:p:p]},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: buf[p:len(buf):len(buf)]},
	)
}

// decimalLen is the length of strconv.AppendInt(nil, v, 10).
func decimalLen(v int64) int {
	n := 1
	if v < 0 {
		n++
	}
	for ; v >= 10 || v <= -10; v /= 10 {
		n++
	}
	return n
}

// isProvenance reports whether a header key is one of the provenance
// headers.
func isProvenance(key string) bool {
	switch key {
	case HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset:
		return true
	}
	return false
}

// Provenance returns the input record r was made from, read from its
// provenance headers, or why it names none: ErrNoProvenance when it has no
// provenance header at all, a *ProvenanceError when they are incomplete,
// repeated or malformed. It does not allocate for a well-formed record
// other than the topic string.
func Provenance(r *kgo.Record) (Source, error) {
	var topic, part, off []byte
	var seen int
	for _, h := range r.Headers {
		var dst *[]byte
		switch h.Key {
		case HeaderSourceTopic:
			dst = &topic
		case HeaderSourcePartition:
			dst = &part
		case HeaderSourceOffset:
			dst = &off
		default:
			continue
		}
		if *dst != nil {
			return Source{}, &ProvenanceError{Header: h.Key, Reason: "appears more than once"}
		}
		*dst = h.Value
		if *dst == nil {
			*dst = []byte{}
		}
		seen++
	}
	switch {
	case seen == 0:
		return Source{}, ErrNoProvenance
	case topic == nil:
		return Source{}, &ProvenanceError{Header: HeaderSourceTopic, Reason: "is missing"}
	case part == nil:
		return Source{}, &ProvenanceError{Header: HeaderSourcePartition, Reason: "is missing"}
	case off == nil:
		return Source{}, &ProvenanceError{Header: HeaderSourceOffset, Reason: "is missing"}
	case len(topic) == 0:
		return Source{}, &ProvenanceError{Header: HeaderSourceTopic, Reason: "is empty"}
	}
	p, err := strconv.ParseInt(string(part), 10, 32)
	if err != nil || p < 0 {
		return Source{}, &ProvenanceError{Header: HeaderSourcePartition, Reason: fmt.Sprintf("is %q, not a partition number", part)}
	}
	o, err := strconv.ParseInt(string(off), 10, 64)
	if err != nil || o < 0 {
		return Source{}, &ProvenanceError{Header: HeaderSourceOffset, Reason: fmt.Sprintf("is %q, not an offset", off)}
	}
	return Source{Topic: string(topic), Partition: int32(p), Offset: o}, nil
}
