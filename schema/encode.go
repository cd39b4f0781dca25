package schema

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// appendUnescaped appends the value of the contents of a well-formed JSON
// string (no quotes). Unpaired surrogates become U+FFFD, as in encoding/json.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		c := s[i+1]
		i += 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = utf16.DecodeRune(r, hex4(s[i+2:]))
				}
				if r2 != utf8.RuneError {
					i += 6
				}
				r = r2
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		default:
			c = c | 0x20 - 'a' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s as the contents of a JSON string, stopping before
// the appended text would exceed limit bytes; it never splits a character or
// an escape. It returns how many bytes of s it consumed. Invalid UTF-8
// becomes \ufffd, so the result is always valid JSON.
func appendEscaped(dst, s []byte, limit int) ([]byte, int) {
	n := 0 // bytes appended
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			if n+1 > limit {
				break
			}
			dst = append(dst, c)
			n++
			i++
			continue
		}
		if c < utf8.RuneSelf {
			var e []byte
			switch c {
			case '"':
				e = []byte{'\\', '"'}
			case '\\':
				e = []byte{'\\', '\\'}
			case '\n':
				e = []byte{'\\', 'n'}
			case '\r':
				e = []byte{'\\', 'r'}
			case '\t':
				e = []byte{'\\', 't'}
			default:
				e = []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]}
			}
			if n+len(e) > limit {
				break
			}
			dst = append(dst, e...)
			n += len(e)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			if n+6 > limit {
				break
			}
			dst = append(dst, `\ufffd`...)
			n += 6
			i++
			continue
		}
		if n+size > limit {
			break
		}
		dst = append(dst, s[i:i+size]...)
		n += size
		i += size
	}
	return dst, i
}

// escapedLen is the length appendEscaped would produce for s with no limit.
func escapedLen(s []byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++ // callers pass valid UTF-8, copied byte for byte
		}
	}
	return n
}

// appendTime appends t in UTC as RFC 3339 with exactly three fractional
// digits: 2024-12-04T15:30:00.000Z. It is a hand-written time.AppendFormat
// because formatting is a measurable share of a transform.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendCompact appends the well-formed JSON value v without its
// insignificant whitespace.
func appendCompact(dst, v []byte) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, v[start:i]...)
			start = i + 1
		case '"':
			// Skip the string: find the closing quote, past escapes.
			for i++; v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
		}
	}
	return append(dst, v[start:]...)
}
