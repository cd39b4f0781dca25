package schema

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error types: the errorType of an error event, also used as a metric label.
const (
	// ParseError: the value is empty, not valid UTF-8, not exactly one
	// well-formed JSON value, or nested deeper than MaxDepth.
	ParseError = "PARSE_ERROR"
	// ValidationError: well-formed JSON that breaks the event contract.
	ValidationError = "VALIDATION_ERROR"
	// OutputTooLarge: a valid event whose output event would be larger than
	// Options.MaxRecordBytes, so it could not be produced.
	OutputTooLarge = "OUTPUT_TOO_LARGE"
)

const (
	// MaxDepth is the deepest nesting of objects and arrays accepted; the
	// event object itself is level 1. Deeper input is a ParseError.
	MaxDepth = 1000

	// MaxTimestamp is 9999-12-31T23:59:59.999Z in epoch milliseconds, the
	// largest timestamp accepted.
	MaxTimestamp = 253402300799999

	// DefaultPipelineName is the processing_pipeline written when
	// Options.PipelineName is empty.
	DefaultPipelineName = "event-processor"

	// DefaultMaxRecordBytes is the broker's default message.max.bytes.
	DefaultMaxRecordBytes = 1_000_000

	// MinMaxRecordBytes is the smallest MaxRecordBytes accepted: room for an
	// error event's fixed members with a useful share of the raw message.
	MinMaxRecordBytes = 4096

	maxPipelineNameBytes = 256
)

// Options configure a Transformer; zero values mean defaults.
type Options struct {
	// PipelineName is written as enrichedData.processing_pipeline,
	// overriding the default "event-processor". At most 256 bytes of UTF-8.
	PipelineName string
	// MaxRecordBytes is the largest Value a Transform ever returns,
	// overriding the default 1,000,000 (the broker's message.max.bytes
	// default). At least MinMaxRecordBytes. Leave room for the record's key
	// and headers below the broker limit.
	MaxRecordBytes int
}

// OptionError reports an invalid Options field.
type OptionError struct {
	Field  string // the Options field, e.g. "MaxRecordBytes"
	Reason string
}

func (e *OptionError) Error() string {
	return "schema: invalid " + e.Field + ": " + e.Reason
}

// Transformer applies the event contract. It holds only its options, so one
// Transformer is safe for concurrent use by any number of goroutines.
type Transformer struct {
	max int
	// suffix ends every output event: `,"processing_pipeline":"name"}}`.
	suffix []byte
}

// New validates o, applies defaults, and returns a Transformer.
func New(o Options) (*Transformer, error) {
	if o.PipelineName == "" {
		o.PipelineName = DefaultPipelineName
	}
	if !utf8.ValidString(o.PipelineName) {
		return nil, &OptionError{"PipelineName", "must be valid UTF-8"}
	}
	if len(o.PipelineName) > maxPipelineNameBytes {
		return nil, &OptionError{"PipelineName", fmt.Sprintf("must be at most %d bytes, got %d", maxPipelineNameBytes, len(o.PipelineName))}
	}
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxRecordBytes < MinMaxRecordBytes || o.MaxRecordBytes > math.MaxInt32 {
		return nil, &OptionError{"MaxRecordBytes", fmt.Sprintf("must be between %d and %d, got %d", MinMaxRecordBytes, math.MaxInt32, o.MaxRecordBytes)}
	}
	suffix := append([]byte(nil), `,"processing_pipeline":"`...)
	suffix, _ = appendEscaped(suffix, []byte(o.PipelineName), math.MaxInt)
	suffix = append(suffix, `"}}`...)
	return &Transformer{max: o.MaxRecordBytes, suffix: suffix}, nil
}

// Source identifies where a raw value came from; Known=false omits the
// source fields from error events.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	Known     bool
}

// Result describes the one event a Transform produced.
type Result struct {
	// Value is the output or error event JSON, appended to the dst passed
	// to Transform: Value is the new bytes alone, and its capacity runs to
	// the end of the (possibly grown) buffer, so Value[len(Value):] can be
	// passed as the next dst to pack many events into one buffer.
	Value []byte
	// IsError is true when Value is an error event for the error topic.
	IsError bool
	// ErrorType is ParseError, ValidationError or OutputTooLarge; "" for
	// output events.
	ErrorType string
	// ID is the event id, unescaped, when the input had a valid id (also on
	// ValidationError and OutputTooLarge events), else nil. It aliases raw
	// when the id has no escape sequences and is freshly allocated when it
	// does; either way it never aliases dst or Value. Do not modify it.
	ID []byte
}

// Transform appends exactly one event for raw to dst and describes it. now
// is the processing time. It never panics and never returns a Value larger
// than MaxRecordBytes. It does not retain dst or raw.
func (t *Transformer) Transform(dst, raw []byte, src Source, now time.Time) Result {
	if len(raw) == 0 {
		return t.errorResult(dst, raw, ParseError, []byte("empty value: a tombstone or zero-length record is not an event"), nil, src, now)
	}
	if !utf8.Valid(raw) {
		var mb [128]byte
		msg := append(mb[:0], "value is not valid UTF-8 (first invalid byte at offset "...)
		msg = strconv.AppendInt(msg, int64(invalidUTF8At(raw)), 10)
		msg = append(msg, ')')
		return t.errorResult(dst, raw, ParseError, msg, nil, src, now)
	}

	s := scanner{b: raw, dupAt: -1}
	top, ok := s.event()
	if !ok {
		var mb [256]byte
		return t.errorResult(dst, raw, ParseError, s.syntaxMessage(mb[:0]), nil, src, now)
	}
	id := s.eventID()
	var mb [512]byte
	ts, msg := s.validate(mb[:0], top)
	if len(msg) > 0 {
		return t.errorResult(dst, raw, ValidationError, msg, id, src, now)
	}

	start := len(dst)
	out := slices.Grow(dst, len(raw)+256+len(t.suffix))
	out = append(out, `{"originalId":`...)
	out = append(out, raw[s.id.start:s.id.end]...)
	out = append(out, `,"eventType":`...)
	out = append(out, raw[s.typ.start:s.typ.end]...)
	out = append(out, `,"processedAt":"`...)
	out = appendTime(out, now)
	out = append(out, `","processingDelay":`...)
	out = strconv.AppendInt(out, now.UnixMilli()-ts, 10)
	out = append(out, `,"enrichedData":{`...)
	for i := range s.nmem {
		m := s.member(i)
		if m.reserved {
			continue
		}
		out = append(out, raw[m.kstart:m.kend]...)
		out = append(out, ':')
		if m.ws {
			out = appendCompact(out, raw[m.vstart:m.vend])
		} else {
			out = append(out, raw[m.vstart:m.vend]...)
		}
		out = append(out, ',')
	}
	out = append(out, `"original_timestamp":`...)
	out = strconv.AppendInt(out, ts, 10)
	out = append(out, t.suffix...)

	if n := len(out) - start; n > t.max {
		msg = append(msg[:0], "output event would be "...)
		msg = strconv.AppendInt(msg, int64(n), 10)
		msg = append(msg, " bytes, more than the maximum record size of "...)
		msg = strconv.AppendInt(msg, int64(t.max), 10)
		msg = append(msg, " bytes"...)
		return t.errorResult(out[:start], raw, OutputTooLarge, msg, id, src, now)
	}
	return Result{Value: out[start:], ID: id}
}

// eventID returns the unescaped id if it is valid, else nil.
func (s *scanner) eventID() []byte {
	f := s.id
	if f.kind != kindString || f.count != 1 || f.end-f.start <= 2 {
		return nil
	}
	content := s.b[f.start+1 : f.end-1]
	if !f.esc {
		return content
	}
	return appendUnescaped(nil, content)
}

// validate checks the scanned event against the contract. It returns the
// timestamp, and the problems found (appended to msg, joined by "; "), in
// field order, or msg unchanged when there are none.
func (s *scanner) validate(msg []byte, top kind) (int64, []byte) {
	if top != kindObject {
		msg = append(msg, "the event must be a JSON object, got "...)
		return 0, append(msg, top.noun()...)
	}
	start := len(msg)
	problem := func(name string) []byte {
		if len(msg) > start {
			msg = append(msg, "; "...)
		}
		msg = append(msg, "field \""...)
		msg = append(msg, name...)
		return append(msg, "\": "...)
	}
	for _, f := range [...]struct {
		name string
		f    *field
	}{{"id", &s.id}, {"type", &s.typ}} {
		switch {
		case f.f.count > 1:
			msg = append(problem(f.name), "appears more than once"...)
		case f.f.kind == kindNone:
			msg = append(problem(f.name), "is required"...)
		case f.f.kind != kindString:
			msg = append(append(problem(f.name), "must be a non-empty string, got "...), f.f.kind.noun()...)
		case f.f.end-f.f.start == 2:
			msg = append(problem(f.name), "must be a non-empty string, got an empty string"...)
		}
	}

	var ts int64
	switch f := s.ts; {
	case f.count > 1:
		msg = append(problem("timestamp"), "appears more than once"...)
	case f.kind == kindNone:
		msg = append(problem("timestamp"), "is required"...)
	case f.kind != kindNumber:
		msg = append(append(problem("timestamp"), "must be an integer number of epoch milliseconds, got "...), f.kind.noun()...)
	default:
		text := s.b[f.start:f.end]
		var why string
		ts, why = parseTimestamp(text)
		if why != "" {
			msg = append(problem("timestamp"), why...)
			msg = appendClipped(msg, text, 40)
		}
	}

	switch f := s.data; {
	case f.count > 1:
		msg = append(problem("data"), "appears more than once"...)
	case f.kind != kindNone && f.kind != kindObject && f.kind != kindNull:
		msg = append(append(problem("data"), "must be an object or null, got "...), f.kind.noun()...)
	case s.dupAt >= 0:
		msg = append(problem("data"), "has a repeated key "...)
		msg = append(msg, '"')
		msg, _ = appendEscaped(msg, s.keyBytes(s.dupKey), 64)
		msg = append(msg, "\" at offset "...)
		msg = strconv.AppendInt(msg, int64(s.dupAt), 10)
		msg = append(msg, "; keys must be unique so the output has no duplicate keys"...)
	}
	return ts, msg
}

// parseTimestamp checks the text of a JSON number against the timestamp rule
// and returns its value, or why it is wrong (to be followed by the text).
func parseTimestamp(text []byte) (int64, string) {
	for _, c := range text {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, "must be an integer number of epoch milliseconds (no fraction or exponent), got "
		}
	}
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) > len("253402300799999") {
		if neg {
			return 0, "must not be negative, got "
		}
		return 0, "must be at most 253402300799999 (9999-12-31T23:59:59.999Z), got "
	}
	var v int64
	for _, c := range text {
		v = v*10 + int64(c-'0')
	}
	switch {
	case neg && v != 0:
		return 0, "must not be negative, got "
	case v > MaxTimestamp:
		return 0, "must be at most 253402300799999 (9999-12-31T23:59:59.999Z), got "
	}
	return v, ""
}

// appendClipped appends s, cut to at most n bytes with "..." when longer.
// s is ASCII (a JSON number), so cutting cannot split a character.
func appendClipped(dst, s []byte, n int) []byte {
	if len(s) <= n {
		return append(dst, s...)
	}
	return append(append(dst, s[:n]...), "..."...)
}

// syntaxMessage appends the message for the scanner's syntax error.
func (s *scanner) syntaxMessage(msg []byte) []byte {
	at := s.errAt
	switch s.err {
	case synNoValue:
		return append(msg, "no JSON value: the value is only whitespace"...)
	case synDepth:
		msg = append(msg, "nesting deeper than "...)
		msg = strconv.AppendInt(msg, MaxDepth, 10)
		msg = append(msg, " levels at offset "...)
		return strconv.AppendInt(msg, int64(at), 10)
	case synControl:
		msg = append(msg, "unescaped control character "...)
		msg = appendChar(msg, s.b[at:])
		msg = append(msg, " in a string at offset "...)
		return strconv.AppendInt(msg, int64(at), 10)
	case synEscape:
		msg = append(msg, "invalid escape sequence in a string at offset "...)
		return strconv.AppendInt(msg, int64(at), 10)
	}
	if at >= len(s.b) {
		msg = append(msg, "unexpected end of JSON input"...)
		if s.err != synEOF {
			// Ran out while looking for something specific.
			msg = append(msg, ", "...)
			msg = append(msg, expecting(s.err)...)
		}
		return msg
	}
	if s.err == synTrailing {
		msg = append(msg, "unexpected data after the JSON value at offset "...)
		msg = strconv.AppendInt(msg, int64(at), 10)
		msg = append(msg, ": "...)
		return appendChar(msg, s.b[at:])
	}
	msg = append(msg, "invalid character "...)
	msg = appendChar(msg, s.b[at:])
	msg = append(msg, " at offset "...)
	msg = strconv.AppendInt(msg, int64(at), 10)
	msg = append(msg, ", "...)
	return append(msg, expecting(s.err)...)
}

func expecting(c syntaxCode) string {
	switch c {
	case synKeyStart:
		return "expecting a string for an object key"
	case synColon:
		return "expecting ':' after an object key"
	case synObjectNext:
		return "expecting ',' or '}' after an object member"
	case synArrayNext:
		return "expecting ',' or ']' after an array element"
	case synLiteral:
		return "in a literal (true, false or null)"
	case synNumber:
		return "in a number"
	}
	return "expecting a JSON value"
}

// appendChar appends the character at the start of b (valid UTF-8) for a
// message: 'x' when printable, else its code, U+000A.
func appendChar(msg, b []byte) []byte {
	r, _ := utf8.DecodeRune(b)
	if r != '\'' && r != utf8.RuneError && unicode.IsPrint(r) {
		return append(utf8.AppendRune(append(msg, '\''), r), '\'')
	}
	msg = append(msg, "U+"...)
	const hex = "0123456789ABCDEF"
	return append(msg, hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// Limits that keep an error event's fixed members small, so that whatever
// the input, the raw message always has room under MinMaxRecordBytes.
const (
	maxMessageBytes = 1024
	maxTopicBytes   = 512
)

// errorResult appends an error event for raw and describes it.
func (t *Transformer) errorResult(dst, raw []byte, errorType string, msg, id []byte, src Source, now time.Time) Result {
	start := len(dst)
	b64 := !utf8.Valid(raw)

	// The members after rawMessage, built first so the raw message can be
	// cut to whatever room they leave.
	var tb [2048]byte
	tail := append(tb[:0], `","errorType":"`...)
	tail = append(tail, errorType...)
	tail = append(tail, `","errorMessage":"`...)
	tail, _ = appendEscaped(tail, msg, maxMessageBytes)
	tail = append(tail, `","timestamp":"`...)
	tail = appendTime(tail, now)
	tail = append(tail, '"')
	if src.Known {
		tail = append(tail, `,"sourceTopic":"`...)
		tail, _ = appendEscaped(tail, []byte(src.Topic), maxTopicBytes)
		tail = append(tail, `","sourcePartition":`...)
		tail = strconv.AppendInt(tail, int64(src.Partition), 10)
		tail = append(tail, `,"sourceOffset":`...)
		tail = strconv.AppendInt(tail, src.Offset, 10)
	}
	if b64 {
		tail = append(tail, `,"rawMessageEncoding":"base64"`...)
	}
	const head = `{"rawMessage":"`
	const truncated = `,"rawMessageTruncated":true,"rawMessageOriginalLength":`

	room := t.max - len(head) - len(tail) - len("}")
	var encLen int
	if b64 {
		encLen = base64.StdEncoding.EncodedLen(len(raw))
	} else {
		encLen = escapedLen(raw)
	}
	cut := encLen > room
	if cut {
		room -= len(truncated) + len(strconv.Itoa(len(raw)))
		encLen = room
	}

	out := slices.Grow(dst, len(head)+encLen+len(tail)+len(truncated)+24)
	out = append(out, head...)
	if b64 {
		n := len(raw)
		if cut {
			n = room / 4 * 3
		}
		out = base64.StdEncoding.AppendEncode(out, raw[:n])
	} else {
		out, _ = appendEscaped(out, raw, room)
	}
	out = append(out, tail...)
	if cut {
		out = append(out, truncated...)
		out = strconv.AppendInt(out, int64(len(raw)), 10)
	}
	out = append(out, '}')
	return Result{Value: out[start:], IsError: true, ErrorType: errorType, ID: id}
}
