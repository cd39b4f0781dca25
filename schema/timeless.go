package schema

import "bytes"

// The members of an event that depend on the processing time, as Transform
// writes them: an output event's processedAt and processingDelay, which sit
// between eventType and enrichedData, and an error event's timestamp.
// Inside a JSON string every quote is escaped, so these byte sequences can
// only be the members themselves, and the first match is the top-level one
// (originalId and eventType precede it and are strings; an error event has
// no nested objects).
var (
	outputStart    = []byte(`{"originalId":`)
	processedAt    = []byte(`,"processedAt":"`)
	enrichedData   = []byte(`,"enrichedData":{`)
	errorStart     = []byte(`{"rawMessage":"`)
	errorTimestamp = []byte(`","timestamp":"`)
)

// AppendTimeless appends to dst the parts of an event that do not depend on
// the processing time: the event less processedAt and processingDelay (an
// output event) or less timestamp (an error event). Two results of one
// input and one contract, processed at different times, give equal bytes.
// A value that is neither kind of event is appended as it is.
func AppendTimeless(dst, value []byte) []byte {
	switch {
	case bytes.HasPrefix(value, outputStart):
		i := bytes.Index(value, processedAt)
		if i < 0 {
			break
		}
		j := bytes.Index(value[i:], enrichedData)
		if j < 0 {
			break
		}
		return append(append(dst, value[:i]...), value[i+j:]...)
	case bytes.HasPrefix(value, errorStart):
		i := bytes.Index(value, errorTimestamp)
		if i < 0 {
			break
		}
		i++ // keep the quote that closes errorMessage
		end := bytes.IndexByte(value[i+len(errorTimestamp)-1:], '"')
		if end < 0 {
			break
		}
		return append(append(dst, value[:i]...), value[i+len(errorTimestamp)-1+end+1:]...)
	}
	return append(dst, value...)
}
