// Package schema is the event contract of the processor: it turns one raw
// record value into exactly one output event or exactly one error event. It
// is a pure function of (options, raw bytes, source, processing time), knows
// nothing of Kafka, and never panics.
//
// # Input
//
// A value is a ParseError when it is empty (a tombstone or zero-length
// record), is not valid UTF-8, is not exactly one well-formed JSON value
// (RFC 8259; surrounding whitespace is allowed, anything else after the value
// is not), or nests objects and arrays deeper than MaxDepth (1000) levels,
// the event object being level 1. Scanning stops at the first problem, so
// even 100,000 levels of nesting cost time linear in the input.
//
// A well-formed value is a ValidationError when it is not an object, or when
//
//   - id or type is missing, not a string, or the empty string;
//   - timestamp is missing, not a number, has a fraction or an exponent, is
//     negative, or is after 9999-12-31T23:59:59.999Z (MaxTimestamp);
//   - data is present and neither an object nor null;
//   - id, type, timestamp or data appears more than once at the top level,
//     or an object anywhere inside data repeats a key (the output must have no
//     duplicate keys; escaped spellings count as the same key).
//
// The message names each field and what was wrong, e.g.
// `field "timestamp": must be an integer number of epoch milliseconds, got a string`;
// several problems are joined with "; ". Other top-level members are ignored.
//
// # Output event
//
// Members, in this order:
//
//	originalId          id, as written
//	eventType           type, as written
//	processedAt         processing time, RFC 3339 UTC, three fractional digits
//	processingDelay     processedAt minus timestamp, integer ms, may be negative
//	enrichedData        data's members in their order, then
//	                    original_timestamp (the input timestamp) and
//	                    processing_pipeline (Options.PipelineName)
//
// Values inside data are copied byte for byte (numbers keep their digits,
// strings their escapes) except that insignificant whitespace is removed. A
// data member named original_timestamp or processing_pipeline is replaced by
// the added one, which appears once, at the end.
//
// # Error event
//
// rawMessage, errorType, errorMessage, timestamp (processing time), then
// sourceTopic, sourcePartition and sourceOffset when the Source is known. A
// raw value that is not valid UTF-8 is carried base64-encoded, with
// "rawMessageEncoding":"base64". No event is ever larger than
// Options.MaxRecordBytes: an error event cuts rawMessage to fit and adds
// "rawMessageTruncated":true and "rawMessageOriginalLength" (bytes of the
// raw value), and an output event that would not fit becomes an
// OutputTooLarge error event instead, so no input can stop the processor
// from producing.
package schema
