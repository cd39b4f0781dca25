package ktool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// FileError says where a --file could not be turned into records.
type FileError struct {
	File    string
	Line    int // 1-based; 0 if unknown
	Column  int // 1-based; 0 if unknown
	Element int // 1-based array element; 0 in line mode
	Err     error
}

func (e *FileError) Error() string {
	var where string
	switch {
	case e.Element > 0 && e.Line > 0:
		where = fmt.Sprintf("%s: array element %d (line %d, column %d)", e.File, e.Element, e.Line, e.Column)
	case e.Element > 0:
		where = fmt.Sprintf("%s: array element %d", e.File, e.Element)
	case e.Line > 0 && e.Column > 0:
		where = fmt.Sprintf("%s: line %d, column %d", e.File, e.Line, e.Column)
	case e.Line > 0:
		where = fmt.Sprintf("%s: line %d", e.File, e.Line)
	default:
		where = e.File
	}
	return where + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrNotJSON is wrapped by a FileError for a record that is not valid JSON.
var ErrNotJSON = errors.New("not valid JSON")

// ErrNoRecords is wrapped by a FileError for a file with nothing to send.
var ErrNoRecords = errors.New("no records in file (it is empty, blank, or an empty JSON array)")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseRecords splits a --file into record values.
//
// A file that is a single JSON array gives one record per element; each is
// written as the element's own JSON text with the insignificant whitespace
// removed (json.Compact): key order, number spelling and string escapes are
// kept, and a string element keeps its quotes. Any other file gives one
// record per line, written exactly as it appears (less a trailing "\r");
// blank lines are skipped. Lines must be valid JSON unless raw is set, in
// which case the file is lines of text and is never read as an array.
func parseRecords(name string, data []byte, raw bool) ([][]byte, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if !raw && isArrayFile(data) {
		return parseArray(name, data)
	}
	return parseLines(name, data, raw)
}

// isArrayFile reports whether data is to be read as one JSON array: it
// starts with '[', and it is not JSON lines whose first line happens to be
// an array (a first line that is a whole JSON value, followed by more).
func isArrayFile(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return false
	}
	if json.Valid(trimmed) {
		return true
	}
	first, rest, _ := bytes.Cut(trimmed, []byte("\n"))
	return !(json.Valid(first) && len(bytes.TrimSpace(rest)) > 0)
}

func parseArray(name string, data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '['
		return nil, arrayError(name, data, 0, 1, err)
	}
	var values [][]byte
	for dec.More() {
		before := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, arrayError(name, data, before, len(values)+1, err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil { // cannot fail on decoded JSON
			return nil, arrayError(name, data, before, len(values)+1, err)
		}
		values = append(values, buf.Bytes())
	}
	before := dec.InputOffset()
	if _, err := dec.Token(); err != nil { // the ']'
		return nil, arrayError(name, data, before, len(values)+1, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := position(data, skipSpace(data, dec.InputOffset()))
		return nil, &FileError{File: name, Line: line, Column: col,
			Err: fmt.Errorf("%w: unexpected data after the closing ] of the array", ErrNotJSON)}
	}
	if len(values) == 0 {
		return nil, &FileError{File: name, Err: ErrNoRecords}
	}
	return values, nil
}

// arrayError locates a syntax error in array element n, which starts
// after offset before (the end of the previous element). The streaming
// decoder's own offsets are not exact, so the element is decoded again on
// its own.
func arrayError(name string, data []byte, before int64, n int, err error) error {
	fail := func(at int64, msg string) error {
		line, col := position(data, at)
		return &FileError{File: name, Line: line, Column: col, Element: n, Err: fmt.Errorf("%w: %s", ErrNotJSON, msg)}
	}
	const unclosed = "unexpected end of file: the array is not closed"
	i := skipSpace(data, before)
	if n > 1 && i < int64(len(data)) && data[i] != ']' {
		if data[i] != ',' {
			return fail(i, fmt.Sprintf("expected a comma after array element %d", n-1))
		}
		i = skipSpace(data, i+1)
	}
	if i >= int64(len(data)) {
		return fail(int64(len(data)), unclosed)
	}
	var v json.RawMessage
	err2 := json.NewDecoder(bytes.NewReader(data[i:])).Decode(&v)
	var se *json.SyntaxError
	switch {
	case errors.As(err2, &se):
		return fail(i+se.Offset-1, se.Error())
	case errors.Is(err2, io.EOF) || errors.Is(err2, io.ErrUnexpectedEOF):
		return fail(int64(len(data)), unclosed)
	}
	return fail(i, err.Error())
}

func skipSpace(data []byte, i int64) int64 {
	for i < int64(len(data)) && strings.IndexByte(" \t\r\n", data[i]) >= 0 {
		i++
	}
	return i
}

func parseLines(name string, data []byte, raw bool) ([][]byte, error) {
	var values [][]byte
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		lineNo++
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !raw {
			var v json.RawMessage
			if err := json.Unmarshal(line, &v); err != nil {
				col := 0
				var se *json.SyntaxError
				if errors.As(err, &se) {
					col = int(se.Offset)
				}
				return nil, &FileError{File: name, Line: lineNo, Column: col,
					Err: fmt.Errorf("%w (%v); a file is either one JSON array or one JSON value per line "+
						"(use --raw to send lines as plain text)", ErrNotJSON, err)}
			}
		}
		values = append(values, bytes.Clone(line))
	}
	if len(values) == 0 {
		return nil, &FileError{File: name, Err: ErrNoRecords}
	}
	return values, nil
}

// position turns the index of a byte in data into a 1-based line and
// column (in bytes).
func position(data []byte, at int64) (line, col int) {
	at = max(0, min(at, int64(len(data))))
	before := data[:at]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(at) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
