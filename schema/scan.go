package schema

import (
	"bytes"
	"slices"
)

// kind is the JSON type of a scanned value; kindNone means the field was absent.
type kind uint8

const (
	kindNone kind = iota
	kindNull
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// noun is how error messages name a kind: "got a string".
func (k kind) noun() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "nothing"
}

// syntaxCode says why scanning stopped; the message is built only on the error path.
type syntaxCode uint8

const (
	synOK syntaxCode = iota
	synNoValue
	synEOF
	synValueStart
	synKeyStart
	synColon
	synObjectNext
	synArrayNext
	synLiteral
	synNumber
	synControl
	synEscape
	synDepth
	synTrailing
)

// field is a top-level member the contract knows about. For strings the span
// includes the quotes.
type field struct {
	kind       kind
	count      int // >1 means the key was repeated
	start, end int
	esc        bool // a string with escape sequences
}

// member is one member of the data object, kept so the output can copy it.
type member struct {
	kstart, kend int // the key, quotes included
	vstart, vend int
	ws           bool // the value contains insignificant whitespace
	reserved     bool // original_timestamp or processing_pipeline: replaced in the output
}

// keyRef names an object key for duplicate detection: a span of the input,
// or of the scanner's unescaped copies when the key had escapes.
type keyRef struct {
	off, n int
	where  keyPlace
}

type keyPlace uint8

const (
	inInput keyPlace = iota
	inUnescArr
	inUnescMore
)

// scanner is a single-pass JSON validator that records only what the contract
// needs: the spans of id, type, timestamp and data, and data's members. It
// lives on Transform's stack. Its lists are fixed arrays inside the struct,
// spilling to the heap only for unusually large events: a slice pointing at
// stack memory stored in the struct would move the whole scanner to the heap.
type scanner struct {
	b  []byte
	i  int
	ws int // whitespace bytes skipped so far; a change means a value needs compacting

	err   syntaxCode
	errAt int

	id, typ, ts, data field
	lastEsc           bool // whether the last string scanned had escapes

	// data's members, in order: the first len(memArr) in memArr, the rest in memMore.
	nmem    int
	memArr  [32]member
	memMore []member

	// Keys of the open objects inside data, innermost last, kept the same way.
	nkeys    int
	keyArr   [32]keyRef
	keysMore []keyRef

	// Unescaped copies of keys that had escape sequences.
	nunesc    int
	unescArr  [128]byte
	unescMore []byte

	dupKey keyRef // first repeated key found inside data
	dupAt  int    // its offset, or -1
}

func (s *scanner) addMember(m member) {
	if s.nmem < len(s.memArr) {
		s.memArr[s.nmem] = m
	} else {
		s.memMore = append(s.memMore, m)
	}
	s.nmem++
}

func (s *scanner) member(i int) *member {
	if i < len(s.memArr) {
		return &s.memArr[i]
	}
	return &s.memMore[i-len(s.memArr)]
}

func (s *scanner) pushKey(k keyRef) {
	if s.nkeys < len(s.keyArr) {
		s.keyArr[s.nkeys] = k
	} else {
		s.keysMore = append(s.keysMore, k)
	}
	s.nkeys++
}

func (s *scanner) key(i int) keyRef {
	if i < len(s.keyArr) {
		return s.keyArr[i]
	}
	return s.keysMore[i-len(s.keyArr)]
}

// popKeys drops the keys from index base on.
func (s *scanner) popKeys(base int) {
	s.nkeys = base
	if base < len(s.keyArr) {
		s.keysMore = s.keysMore[:0]
	} else {
		s.keysMore = s.keysMore[:base-len(s.keyArr)]
	}
}

func (s *scanner) fail(c syntaxCode) bool {
	s.err, s.errAt = c, s.i
	return false
}

func (s *scanner) skipWS() {
	i := s.i
	for i < len(s.b) {
		if c := s.b[i]; c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			break
		}
		i++
	}
	s.ws += i - s.i
	s.i = i
}

// event scans the whole input. It returns false on a syntax error (s.err says
// which), and the kind of the top-level value otherwise.
func (s *scanner) event() (kind, bool) {
	s.skipWS()
	if s.i == len(s.b) {
		return kindNone, s.fail(synNoValue)
	}
	var k kind
	if s.b[s.i] == '{' {
		k = kindObject
		if !s.topObject() {
			return k, false
		}
	} else {
		var ok bool
		if k, ok = s.value(0, false); !ok {
			return k, false
		}
	}
	s.skipWS()
	if s.i != len(s.b) {
		return k, s.fail(synTrailing)
	}
	return k, true
}

// topObject scans the event object, recording the known fields.
func (s *scanner) topObject() bool {
	s.i++
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail(synKeyStart)
		}
		kstart := s.i
		esc, ok := s.str()
		if !ok {
			return false
		}
		f := s.knownField(s.b[kstart+1:s.i-1], esc)
		if !s.colon() {
			return false
		}
		vstart := s.i
		var k kind
		if f == &s.data && s.b[vstart] == '{' {
			k, ok = kindObject, s.object(2, true, true)
		} else {
			k, ok = s.value(1, false)
		}
		if !ok {
			return false
		}
		if f != nil {
			f.count++
			f.kind, f.start, f.end = k, vstart, s.i
			if k == kindString {
				f.esc = s.lastEsc
			}
		}
		if done, ok := s.next('}', synObjectNext); done || !ok {
			return ok
		}
	}
}

// knownField maps a top-level key to the field it sets, or nil.
func (s *scanner) knownField(key []byte, esc bool) *field {
	if esc {
		// An escaped spelling of a known key ("\u0069d") still names it.
		if len(key) > 6*len("timestamp") {
			return nil
		}
		var buf [64]byte
		key = appendUnescaped(buf[:0], key)
	}
	switch string(key) {
	case "id":
		return &s.id
	case "type":
		return &s.typ
	case "timestamp":
		return &s.ts
	case "data":
		return &s.data
	}
	return nil
}

// colon consumes the ':' after a key and the whitespace around it, and checks
// that a value follows.
func (s *scanner) colon() bool {
	s.skipWS()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return s.fail(synColon)
	}
	s.i++
	s.skipWS()
	if s.i >= len(s.b) {
		return s.fail(synEOF)
	}
	return true
}

// next consumes the ',' or closing bracket after a member or element.
func (s *scanner) next(closing byte, code syntaxCode) (done, ok bool) {
	s.skipWS()
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',':
			s.i++
			s.skipWS()
			return false, true
		case closing:
			s.i++
			return true, true
		}
	}
	return true, s.fail(code)
}

// value scans any JSON value at s.i (which is not whitespace). depth is the
// nesting level of the container holding it; dup asks for duplicate-key
// detection in the objects inside it.
func (s *scanner) value(depth int, dup bool) (kind, bool) {
	if s.i >= len(s.b) {
		return kindNone, s.fail(synEOF)
	}
	switch c := s.b[s.i]; c {
	case '{':
		return kindObject, s.object(depth+1, dup, false)
	case '[':
		return kindArray, s.array(depth+1, dup)
	case '"':
		_, ok := s.str()
		return kindString, ok
	case 't':
		return kindBool, s.literal("true")
	case 'f':
		return kindBool, s.literal("false")
	case 'n':
		return kindNull, s.literal("null")
	default:
		if c == '-' || c-'0' < 10 {
			_, ok := s.number()
			return kindNumber, ok
		}
		return kindNone, s.fail(synValueStart)
	}
}

// object scans an object at depth. With dup it rejects repeated keys (as a
// validation problem, recorded in dupAt); isData marks the data object itself,
// whose members are recorded for the output.
func (s *scanner) object(depth int, dup, isData bool) bool {
	if depth > MaxDepth {
		return s.fail(synDepth)
	}
	s.i++
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	base := s.nkeys
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail(synKeyStart)
		}
		kstart := s.i
		esc, ok := s.str()
		if !ok {
			return false
		}
		kend := s.i
		reserved := false
		if dup {
			ref := s.keyRef(kstart, kend, esc)
			if isData {
				k := s.keyBytes(ref)
				reserved = string(k) == "original_timestamp" || string(k) == "processing_pipeline"
			}
			if !reserved {
				s.pushKey(ref)
			}
		}
		if !s.colon() {
			return false
		}
		vstart, ws := s.i, s.ws
		if _, ok := s.value(depth, dup); !ok {
			return false
		}
		if isData {
			s.addMember(member{kstart, kend, vstart, s.i, s.ws != ws, reserved})
		}
		done, ok := s.next('}', synObjectNext)
		if !ok {
			return false
		}
		if done {
			if dup {
				s.checkDups(base)
				s.popKeys(base)
			}
			return true
		}
	}
}

func (s *scanner) array(depth int, dup bool) bool {
	if depth > MaxDepth {
		return s.fail(synDepth)
	}
	s.i++
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if _, ok := s.value(depth, dup); !ok {
			return false
		}
		if done, ok := s.next(']', synArrayNext); done || !ok {
			return ok
		}
	}
}

func (s *scanner) keyRef(kstart, kend int, esc bool) keyRef {
	if !esc {
		return keyRef{off: kstart + 1, n: kend - kstart - 2}
	}
	content := s.b[kstart+1 : kend-1]
	// Unescaping never lengthens a string, so this fits when content does.
	if s.nunesc+len(content) <= len(s.unescArr) {
		n := len(appendUnescaped(s.unescArr[s.nunesc:s.nunesc], content))
		r := keyRef{off: s.nunesc, n: n, where: inUnescArr}
		s.nunesc += n
		return r
	}
	off := len(s.unescMore)
	s.unescMore = appendUnescaped(s.unescMore, content)
	return keyRef{off: off, n: len(s.unescMore) - off, where: inUnescMore}
}

func (s *scanner) keyBytes(r keyRef) []byte {
	switch r.where {
	case inUnescArr:
		return s.unescArr[r.off : r.off+r.n]
	case inUnescMore:
		return s.unescMore[r.off : r.off+r.n]
	}
	return s.b[r.off : r.off+r.n]
}

// checkDups records the first repeated key among the keys from index base
// on (one object's keys). Small objects, the usual case, are checked
// pairwise; large ones are sorted, so many keys cost n log n, not n².
func (s *scanner) checkDups(base int) {
	n := s.nkeys - base
	if s.dupAt >= 0 || n < 2 {
		return
	}
	if n <= 16 {
		for i := base + 1; i < s.nkeys; i++ {
			ki := s.keyBytes(s.key(i))
			for j := base; j < i; j++ {
				if bytes.Equal(ki, s.keyBytes(s.key(j))) {
					s.dupKey, s.dupAt = s.key(i), s.keyOffset(s.key(i))
					return
				}
			}
		}
		return
	}
	keys := make([]keyRef, 0, n)
	for i := base; i < s.nkeys; i++ {
		keys = append(keys, s.key(i))
	}
	slices.SortFunc(keys, func(a, b keyRef) int { return bytes.Compare(s.keyBytes(a), s.keyBytes(b)) })
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(s.keyBytes(keys[i-1]), s.keyBytes(keys[i])) {
			s.dupKey, s.dupAt = keys[i], s.keyOffset(keys[i])
			return
		}
	}
}

// keyOffset is where a key appears in the input, for messages; keys that were
// unescaped lost their position, so they report the scan position instead.
func (s *scanner) keyOffset(r keyRef) int {
	if r.where != inInput {
		return s.i
	}
	return r.off - 1
}

// strSafe marks the bytes that need no attention inside a string: everything
// but '"', '\\' and control characters. UTF-8 was validated up front.
var strSafe = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// str scans a string at s.i and reports whether it had escape sequences
// (also left in s.lastEsc).
func (s *scanner) str() (esc bool, ok bool) {
	b, i := s.b, s.i+1
	for {
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			return esc, s.fail(synEOF)
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			s.lastEsc = esc
			return esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				s.i = len(b)
				return esc, s.fail(synEOF)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i
					return esc, s.fail(synEscape)
				}
				i += 6
			default:
				s.i = i
				return esc, s.fail(synEscape)
			}
		default:
			s.i = i
			return esc, s.fail(synControl)
		}
	}
}

func isHex(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 6
}

// number scans a number and reports whether it is an integer (no fraction,
// no exponent).
func (s *scanner) number() (isInt bool, ok bool) {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i]-'1' < 9:
		i = digits(b, i+1)
	default:
		s.i = i
		return false, s.fail(synNumber)
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if i >= len(b) || b[i]-'0' >= 10 {
			s.i = i
			return false, s.fail(synNumber)
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i]-'0' >= 10 {
			s.i = i
			return false, s.fail(synNumber)
		}
		i = digits(b, i)
	}
	s.i = i
	return isInt, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		// Point at the first byte that differs.
		for j := 0; j < len(word) && s.i < len(s.b) && s.b[s.i] == word[j]; j++ {
			s.i++
		}
		if s.i >= len(s.b) {
			return s.fail(synEOF)
		}
		return s.fail(synLiteral)
	}
	s.i += len(word)
	return true
}
