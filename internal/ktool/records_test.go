package ktool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRecords(t *testing.T) {
	tests := []struct {
		name string
		data string
		raw  bool
		want []string
	}{
		{"array of objects", "[\n  {\"id\": \"a\", \"n\": 1.50},\n  {\"id\":\"b\",\n   \"data\": {\"x\": [1, 2]}}\n]\n",
			false, []string{`{"id":"a","n":1.50}`, `{"id":"b","data":{"x":[1,2]}}`}},
		{"array keeps strings quoted and escapes", `["plain", "a\u00e9 b", 3, null, true]`,
			false, []string{`"plain"`, `"a\u00e9 b"`, `3`, `null`, `true`}},
		{"array after BOM and blank lines", "\xEF\xBB\xBF\n\n [ {\"a\":1} ]", false, []string{`{"a":1}`}},
		{"lines", "{\"id\":\"a\"}\n\n   \n{\"id\": \"b\"}\r\n42\n", false, []string{`{"id":"a"}`, `{"id": "b"}`, `42`}},
		{"lines without final newline", `{"a":1}`, false, []string{`{"a":1}`}},
		{"lines whose first is an array", "[1,2]\n[3]\n", false, []string{`[1,2]`, `[3]`}},
		{"raw lines", "not json\n\n{\"a\":1}\n[broken\n", true, []string{"not json", `{"a":1}`, "[broken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRecords("f.json", []byte(tt.data), tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			var gs []string
			for _, g := range got {
				gs = append(gs, string(g))
			}
			if strings.Join(gs, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got  %q\nwant %q", gs, tt.want)
			}
		})
	}
}

func TestParseRecordsErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr error
		want    string // the whole message
	}{
		{"line not JSON", "{\"a\":1}\n\nthis is not valid JSON\n", ErrNotJSON,
			"f.json: line 3, column 2: not valid JSON (invalid character 'h' in literal true (expecting 'r')); " +
				"a file is either one JSON array or one JSON value per line (use --raw to send lines as plain text)"},
		{"pretty object is not lines", "{\n  \"a\": 1\n}\n", ErrNotJSON,
			"f.json: line 1, column 1: not valid JSON (unexpected end of JSON input); " +
				"a file is either one JSON array or one JSON value per line (use --raw to send lines as plain text)"},
		{"array element", "[\n  {\"a\": 1},\n  {\"b\": 2,},\n  {\"c\": 3}\n]", ErrNotJSON,
			"f.json: array element 2 (line 3, column 11): not valid JSON: invalid character '}' looking for beginning of object key string"},
		{"array missing comma", "[{\"a\":1}\n {\"b\":2}]", ErrNotJSON,
			"f.json: array element 2 (line 2, column 2): not valid JSON: expected a comma after array element 1"},
		{"array not closed", "[\n{\"a\":1},\n", ErrNotJSON,
			"f.json: array element 2 (line 3, column 1): not valid JSON: unexpected end of file: the array is not closed"},
		{"after array", "[1] x", ErrNotJSON,
			"f.json: line 1, column 5: not valid JSON: unexpected data after the closing ] of the array"},
		{"array then a line", "[1]\n]", ErrNotJSON,
			"f.json: line 2, column 1: not valid JSON (invalid character ']' looking for beginning of value); " +
				"a file is either one JSON array or one JSON value per line (use --raw to send lines as plain text)"},
		{"empty array", " [ ] ", ErrNoRecords, "f.json: " + ErrNoRecords.Error()},
		{"empty file", "", ErrNoRecords, "f.json: " + ErrNoRecords.Error()},
		{"blank file", "\n  \n\r\n", ErrNoRecords, "f.json: " + ErrNoRecords.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRecords("f.json", []byte(tt.data), false)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want one wrapping %v", err, tt.wantErr)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestProduceFileErrors checks file problems are runtime errors (exit 1)
// reported before any broker is dialled.
func TestProduceFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("[{\"id\":1}, oops]"), 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.json")
	if err := os.WriteFile(unreadable, []byte("[1]"), 0o000); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--file", filepath.Join(dir, "nope.json")}, "reading --file: " + filepath.Join(dir, "nope.json") + " does not exist"},
		{"directory", []string{"--file", dir}, "reading --file: read " + dir + ": is a directory"},
		{"not JSON", []string{"--file", bad}, bad + ": array element 2 (line 1, column 12): not valid JSON: invalid character 'o'"},
		{"stdin not JSON", []string{"--file", "-"}, "stdin: line 1, column 2: not valid JSON"},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct {
			name string
			args []string
			want string
		}{"unreadable", []string{"--file", unreadable}, "permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"produce", "t", "--brokers", "127.0.0.1:1"}, tt.args...)
			_, stderr, code := ktool(t, "nope\n", args...)
			if code != exitRuntime {
				t.Errorf("exit %d, want 1; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(stderr, "cannot reach") {
				t.Errorf("the file was checked after dialling: %s", stderr)
			}
		})
	}
}
