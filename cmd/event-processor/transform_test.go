package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runTransform(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = transformCommand(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// transformLine is one line of transform's output.
type transformLine struct {
	Topic string
	Value json.RawMessage
}

func parseLines(t *testing.T, out string) []transformLine {
	t.Helper()
	var lines []transformLine
	for _, l := range strings.SplitAfter(out, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Fatalf("output does not end with a newline: %q", l)
		}
		var tl transformLine
		d := json.NewDecoder(strings.NewReader(l))
		d.DisallowUnknownFields()
		if err := d.Decode(&tl); err != nil {
			t.Fatalf("output line %.200q: %v", l, err)
		}
		lines = append(lines, tl)
	}
	return lines
}

func TestTransformSeedExample(t *testing.T) {
	in := `{"id":"event-123","type":"user-action","timestamp":1234567890000,"data":{"action":"click","userId":42}}` + "\n" +
		"this is not valid JSON\n"
	out, errOut, code := runTransform(t, in, "--now", "2024-12-04T15:30:00Z", "--pipeline-name", "flink-event-processor")
	want := `{"topic":"output-results","value":{"originalId":"event-123","eventType":"user-action","processedAt":"2024-12-04T15:30:00.000Z","processingDelay":498758310000,"enrichedData":{"action":"click","userId":42,"original_timestamp":1234567890000,"processing_pipeline":"flink-event-processor"}}}` + "\n" +
		`{"topic":"error-events","value":{"rawMessage":"this is not valid JSON","errorType":"PARSE_ERROR","errorMessage":"invalid character 'h' at offset 1, in a literal (true, false or null)","timestamp":"2024-12-04T15:30:00.000Z","sourceTopic":"input-events","sourcePartition":0,"sourceOffset":1}}` + "\n"
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d, stderr %q\ngot  %s\nwant %s", code, errOut, out, want)
	}
}

func TestTransformLines(t *testing.T) {
	long := `{"id":"e1","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("x", 300_000) + `"}}`
	tests := []struct {
		name, in string
		topics   []string
	}{
		{"no input", "", nil},
		{"last line without newline", `{"id":"e1","type":"t","timestamp":1}`, []string{"output-results"}},
		{"crlf", "{\"id\":\"e1\",\"type\":\"t\",\"timestamp\":1}\r\n{\"id\":\"e2\",\"type\":\"t\",\"timestamp\":1}\r\n", []string{"output-results", "output-results"}},
		{"only one \\r\\n is stripped", "{}\r\r\n", []string{"error-events"}},
		{"empty lines are empty values", "\n\n", []string{"error-events", "error-events"}},
		{"line longer than any buffer", long + "\n" + long, []string{"output-results", "output-results"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runTransform(t, tt.in, "--now", "2024-12-04T15:30:00Z")
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := parseLines(t, out)
			var topics []string
			for _, l := range lines {
				topics = append(topics, l.Topic)
			}
			if strings.Join(topics, " ") != strings.Join(tt.topics, " ") {
				t.Fatalf("topics %v, want %v\n%.500s", topics, tt.topics, out)
			}
		})
	}
	// The second of two lines is offset 1 in error events.
	out, _, _ := runTransform(t, "{}\n[]\n", "--input-topic", "in")
	for i, l := range parseLines(t, out) {
		var ev struct {
			SourceTopic     string
			SourcePartition int32
			SourceOffset    int64
		}
		if err := json.Unmarshal(l.Value, &ev); err != nil || ev.SourceTopic != "in" || ev.SourcePartition != 0 || ev.SourceOffset != int64(i) {
			t.Errorf("line %d: source %+v (%v)", i, ev, err)
		}
	}
}

func TestTransformFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":"e1","type":"t","timestamp":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runTransform(t, "ignored stdin\n", "--file", path)
	if lines := parseLines(t, out); code != 0 || len(lines) != 1 || lines[0].Topic != "output-results" {
		t.Fatalf("exit %d, stderr %q, output %s", code, errOut, out)
	}
	_, errOut, code = runTransform(t, "", "--file", filepath.Join(t.TempDir(), "missing"))
	if code != 1 || !strings.Contains(errOut, "opening --file") || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestTransformEnvironment(t *testing.T) {
	t.Setenv("OUTPUT_TOPIC", "env-out")
	t.Setenv("ERROR_TOPIC", "env-err")
	t.Setenv("PIPELINE_NAME", "env-pipeline")
	t.Setenv("MAX_RECORD_BYTES", "9000")
	t.Setenv("INPUT_TOPIC", "env-in")
	in := `{"id":"e1","type":"t","timestamp":1,"data":{"s":"` + strings.Repeat("x", 4000) + `"}}` + "\n" +
		`{"id":"e1","type":"t","timestamp":1}` + "\n"

	out, errOut, code := runTransform(t, in)
	lines := parseLines(t, out)
	if code != 0 || len(lines) != 2 || lines[0].Topic != "env-out" || lines[1].Topic != "env-out" ||
		!strings.Contains(string(lines[1].Value), `"processing_pipeline":"env-pipeline"`) {
		t.Fatalf("env: exit %d, stderr %q, output %s", code, errOut, out)
	}

	// Flags beat the environment.
	out, errOut, code = runTransform(t, in, "--output-topic", "flag-out", "--error-topic", "flag-err",
		"--pipeline-name", "flag-pipeline", "--max-record-bytes", "8192", "--input-topic", "flag-in")
	lines = parseLines(t, out)
	if code != 0 || len(lines) != 2 || lines[0].Topic != "flag-err" || lines[1].Topic != "flag-out" ||
		!strings.Contains(string(lines[0].Value), `"errorType":"OUTPUT_TOO_LARGE"`) ||
		!strings.Contains(string(lines[0].Value), `"sourceTopic":"flag-in"`) ||
		!strings.Contains(string(lines[1].Value), `"processing_pipeline":"flag-pipeline"`) {
		t.Fatalf("flags: exit %d, stderr %q, output %s", code, errOut, out)
	}
}

func TestTransformBadFlags(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		inStderr string
	}{
		{"unknown flag", nil, []string{"--nope"}, 2, "-nope"},
		{"max too small", nil, []string{"--max-record-bytes", "10"}, 2, "--max-record-bytes: must be between 8192"},
		{"max not a number", nil, []string{"--max-record-bytes", "lots"}, 2, "-max-record-bytes"},
		{"env max not a number", map[string]string{"MAX_RECORD_BYTES": "lots"}, nil, 2, "MAX_RECORD_BYTES"},
		{"env max too small", map[string]string{"MAX_RECORD_BYTES": "1"}, nil, 2, "--max-record-bytes: must be between 8192 and 67108864, got 1"},
		{"bad env overridden by flag", map[string]string{"MAX_RECORD_BYTES": "lots"}, []string{"--max-record-bytes", "9000"}, 0, ""},
		{"now not RFC 3339", nil, []string{"--now", "2024-12-04 15:30"}, 2, "-now"},
		{"empty topic", nil, []string{"--error-topic", ""}, 2, "--error-topic: topic name must not be empty"},
		{"bad topic in env", map[string]string{"INPUT_TOPIC": "a/b"}, nil, 2, `--input-topic: topic name "a/b" has '/'`},
		{"long pipeline name", nil, []string{"--pipeline-name", strings.Repeat("p", 300)}, 2, "--pipeline-name: must be at most 256 bytes"},
		{"positional argument", nil, []string{"events.json"}, 2, `unexpected argument "events.json"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, errOut, code := runTransform(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d, stderr containing %q", code, errOut, tt.code, tt.inStderr)
			}
		})
	}
}

func TestTransformDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	code := dispatch([]string{"transform", "--now", "2024-12-04T15:30:00Z"}, strings.NewReader("{}\n"), &out, &errOut)
	if lines := parseLines(t, out.String()); code != 0 || len(lines) != 1 || lines[0].Topic != "error-events" {
		t.Fatalf("exit %d, stderr %q, output %s", code, errOut.String(), out.String())
	}
}
