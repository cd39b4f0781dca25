package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// walkthroughMarker precedes the README's real-broker walkthrough.
const walkthroughMarker = "<!-- walkthrough: integration/readme_test.go runs this block against a real broker -->"

// TestReadmeWalkthrough runs the README's "Running against a real cluster"
// block as a user would copy it, line by line in one shell, against the
// test broker: the broker's and the HTTP port's addresses are swapped for
// the test's, the make lines are left to the harness (its broker, its
// binaries). It keeps the walkthrough true.
func TestReadmeWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), walkthroughMarker)
	if !ok {
		t.Fatalf("README.md has no %q", walkthroughMarker)
	}
	block, ok = strings.CutPrefix(strings.TrimLeft(block, "\n"), "```sh\n")
	if !ok {
		t.Fatal("the walkthrough marker is not followed by a ```sh block")
	}
	block, _, _ = strings.Cut(block, "```")

	bin := filepath.Dir(binary(t, "event-processor"))
	httpAddr := freeAddr(t)
	var script []string
	for line := range strings.Lines(block) {
		if strings.HasPrefix(line, "make ") {
			continue
		}
		line = strings.ReplaceAll(line, "127.0.0.1:9092", broker.Addr)
		line = strings.ReplaceAll(line, "127.0.0.1:8080", httpAddr)
		line = strings.ReplaceAll(line, "bin/", bin+"/")
		script = append(script, line)
	}
	if len(script) < 8 {
		t.Fatalf("the walkthrough has only %d commands:\n%s", len(script), block)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walkthrough uses curl, which is not installed here")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", strings.Join(script, ""))
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "KAFKA_BOOTSTRAP_SERVERS=") // only the walkthrough's own --brokers
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"wrote 14 records from examples/sample-events.json to input-events",
		"exactly once: each of the 15 inputs has exactly one result",
		"2 records from output-results (reached --max 2)",
		"group flink-event-processor: state Stable, 1 member",
		"\nready\n",
		`event_processor_records_total{outcome="output"} 14`,
		`event_processor_records_total{outcome="error"} 1`,
		"left the group",
		"msg=stopped error=<nil>",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the walkthrough's output lacks %q:\n%s", want, out.String())
		}
	}
	// A normal run and shutdown read as one: no failure wording.
	for _, unwanted := range []string{"level=WARN", "level=ERROR", "session failed", "did not complete"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("the log of a normal run and shutdown has %q:\n%s", unwanted, out.String())
		}
	}
}
