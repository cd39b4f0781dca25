//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// demoSummaryLine reads a number from the demo's summary, e.g. "inputs".
func demoSummaryLine(t *testing.T, out, name string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + name + `\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in the summary:\n%s", name, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func runDemoTest(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runDemo(ctx, args, &out, &errb, nil)
	return out.String(), errb.String(), code
}

func TestDemo(t *testing.T) {
	stdout, stderr, code := runDemoTest(t, t.Context(), "--events", "2000")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	inputs := demoSummaryLine(t, stdout, "inputs")
	outputs := demoSummaryLine(t, stdout, "outputs")
	errs := demoSummaryLine(t, stdout, "errors")
	samples, err := demoSamples(mustReadSamples(t))
	if err != nil {
		t.Fatal(err)
	}
	invalid := len(demoInvalid(1_000_000))
	if want := len(samples) + invalid + 2000; inputs != want {
		t.Errorf("inputs = %d, want %d", inputs, want)
	}
	if outputs+errs != inputs {
		t.Errorf("outputs %d + errors %d != inputs %d", outputs, errs, inputs)
	}
	if want := len(samples) + 2000; outputs != want {
		t.Errorf("outputs = %d, want the %d valid inputs", outputs, want)
	}
	if errs != invalid {
		t.Errorf("errors = %d, want the %d invalid messages", errs, invalid)
	}
	for _, want := range []string{
		"in-process stand-in", "production needs a real Kafka",
		"0 missing, 0 duplicated", "PARSE_ERROR 4", "VALIDATION_ERROR 5", "OUTPUT_TOO_LARGE 1",
		"events/s", `"originalId":"evt-1001"`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if m := regexp.MustCompile(`transactions\s+(\d+) committed, 0 aborted, 0 failed`).FindStringSubmatch(stdout); m == nil || m[1] == "0" {
		t.Errorf("want committed transactions and none aborted or failed:\n%s", stdout)
	}
}

// mustReadSamples reads the canonical sample file, which must be the one
// the binary embeds.
func mustReadSamples(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "sample-events.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDemoFile(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "events.jsonl")
	// The last line is JSON but not a valid event: an error event, and no
	// exactly-once mismatch.
	os.WriteFile(lines, []byte(`{"id":"a","type":"t","timestamp":1}`+"\n\n"+`{"id":"b","type":"t","timestamp":2,"data":{"x":19.99}}`+"\n"+`{"id":"c"}`+"\n"), 0o644)
	stdout, stderr, code := runDemoTest(t, t.Context(), "--file", lines, "--partitions", "1", "--pipeline-name", "demo-test")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got := demoSummaryLine(t, stdout, "outputs"); got != 2 {
		t.Errorf("outputs = %d, want 2", got)
	}
	if got, want := demoSummaryLine(t, stdout, "errors"), 1+len(demoInvalid(1_000_000)); got != want || !strings.Contains(stdout, "0 missing, 0 duplicated") {
		t.Errorf("errors = %d, want %d (the file's invalid event and the built-in invalid messages), and exactly once:\n%s", got, want, stdout)
	}
	if !strings.Contains(stdout, `"x":19.99,"original_timestamp":2,"processing_pipeline":"demo-test"`) {
		t.Errorf("output lacks the enriched event:\n%s", stdout)
	}
}

func TestDemoBadInvocation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"--bogus"}, 2, "flag provided but not defined"},
		{"argument", []string{"now"}, 2, `unexpected argument "now"`},
		{"negative events", []string{"--events", "-1"}, 2, "--events: must be 0 or more"},
		{"events not a number", []string{"--events", "many"}, 2, "invalid value"},
		{"zero partitions", []string{"--partitions", "0"}, 2, "--partitions: must be between 1 and 1000"},
		{"long pipeline name", []string{"--pipeline-name", strings.Repeat("p", 300)}, 2, "--pipeline-name"},
		{"bad http addr", []string{"--http-addr", "nonsense"}, 2, "--http-addr"},
		{"missing file", []string{"--file", filepath.Join(dir, "nope.json")}, 1, "reading --file"},
		{"broken array", []string{"--file", write("broken.json", `[{"id":"a"},`)}, 1, "not a valid JSON array"},
		{"not JSON lines", []string{"--file", write("text.txt", "hello\nworld\n")}, 1, "line 1 is not JSON"},
		{"empty array", []string{"--file", write("empty.json", " [ ] ")}, 1, "no events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runDemoTest(t, t.Context(), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("want nothing on stdout, got:\n%s", stdout)
			}
		})
	}
}

// TestDemoServe runs --serve, sends one more event through the running
// processor as a user of ktool would, checks the health endpoint, and stops
// the demo as Ctrl-C does.
func TestDemoServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan string, 1)
	var stdout, stderr bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- runDemo(ctx, []string{"--serve", "--http-addr", httpAddr}, &stdout, &stderr, func(addr string) { addrs <- addr })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-exit:
		t.Fatalf("demo exited %d before serving\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not start serving within 60s")
	}

	resp, err := http.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %s, want 200 while serving", resp.Status)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumeTopics("output-results"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, pcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer pcancel()
	if err := cl.ProduceSync(pctx, &kgo.Record{Topic: "input-events",
		Value: []byte(`{"id":"served-1","type":"user-action","timestamp":1733328000000}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	found := false
	for !found {
		fetches := cl.PollFetches(pctx)
		if pctx.Err() != nil {
			t.Fatal("the served event did not reach output-results within 30s")
		}
		fetches.EachRecord(func(r *kgo.Record) {
			found = found || bytes.Contains(r.Value, []byte(`"originalId":"served-1"`))
		})
	}

	cancel() // as Ctrl-C
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d after stopping, want 0\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of the cancel")
	}
	for _, want := range []string{"bootstrap   " + addr, "consume output-results --offset beginning", "stopped"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// The demo honours the environment twins of the processor's options it
// takes, as run and transform do, and bounds --events.
func TestDemoEnvAndBounds(t *testing.T) {
	t.Setenv("PIPELINE_NAME", "from-env")
	stdout, stderr, code := runDemoTest(t, t.Context())
	if code != 0 || !strings.Contains(stdout, `"processing_pipeline":"from-env"`) {
		t.Errorf("PIPELINE_NAME=from-env: exit %d, the outputs do not carry it\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runDemoTest(t, t.Context(), "--events", "2000001")
	if code != 2 || !strings.Contains(stderr, "--events: at most 2000000") {
		t.Errorf("--events 2000001: exit %d, %s", code, stderr)
	}
}
