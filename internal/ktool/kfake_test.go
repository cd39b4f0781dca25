package ktool

// End-to-end tests of every subcommand against franz-go's in-process fake
// cluster (kfake), on 127.0.0.1. The real-broker versions are in
// integration/ktool_test.go.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCluster starts a one-broker fake cluster with topics of 3 partitions
// and returns its address.
func fakeCluster(t *testing.T, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// mustRun runs ktool and fails the test unless it exits 0.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, code := ktool(t, stdin, args...)
	if code != exitOK {
		t.Fatalf("ktool %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return stdout
}

// consumedRecord is one line of consume --format json.
type consumedRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp string            `json:"timestamp"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
	Value     json.RawMessage   `json:"value"`
}

func parseJSONLines(t *testing.T, out string) []consumedRecord {
	t.Helper()
	var rs []consumedRecord
	for line := range strings.Lines(out) {
		var r consumedRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("consume output line is not JSON: %v\n%s", err, line)
		}
		rs = append(rs, r)
	}
	return rs
}

func values(rs []consumedRecord) []string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, string(r.Value))
	}
	slices.Sort(vs)
	return vs
}

var producedRE = regexp.MustCompile(`partition (\d+), offset (\d+)`)

func TestFakeProduceConsume(t *testing.T) {
	addr := fakeCluster(t, "input-events")
	b := []string{"--brokers", addr}

	out := mustRun(t, "", append([]string{"produce", "input-events", `{"id":"test-1","type":"user-action"}`,
		"--key", "test-1", "--header", "source=ktool", "--header", "trace=abc"}, b...)...)
	if !regexp.MustCompile(`^input-events: partition \d, offset 0\n$`).MatchString(out) {
		t.Errorf("produce VALUE reported %q", out)
	}
	mustRun(t, "", append([]string{"produce", "input-events", "this is not valid JSON", "--key", "test-1"}, b...)...)
	mustRun(t, "{\"id\":\"stdin\"}\n", append([]string{"produce", "input-events", "-", "--key", "test-1"}, b...)...)

	dir := t.TempDir()
	arr := filepath.Join(dir, "events.json")
	os.WriteFile(arr, []byte("[\n  {\"id\": \"arr-1\"},\n  {\"id\": \"arr-2\"},\n  \"a string\"\n]\n"), 0o644)
	out = mustRun(t, "", append([]string{"produce", "input-events", "--file", arr}, b...)...)
	if n := len(producedRE.FindAllString(out, -1)); n != 3 || !strings.Contains(out, "wrote 3 records from "+arr+" to input-events") {
		t.Errorf("produce --file (array) reported:\n%s", out)
	}
	lines := filepath.Join(dir, "events.jsonl")
	os.WriteFile(lines, []byte("{\"id\":\"line-1\"}\n\n{\"id\":\"line-2\"}\n"), 0o644)
	mustRun(t, "", append([]string{"produce", "input-events", "--file", lines, "--key", "k"}, b...)...)

	out = mustRun(t, "", append([]string{"consume", "input-events", "--offset", "beginning", "--max", "8", "--format", "json"}, b...)...)
	rs := parseJSONLines(t, out)
	want := []string{`"a string"`, `"this is not valid JSON"`, `{"id":"arr-1"}`, `{"id":"arr-2"}`,
		`{"id":"line-1"}`, `{"id":"line-2"}`, `{"id":"stdin"}`, `{"id":"test-1","type":"user-action"}`}
	slices.Sort(want)
	if got := values(rs); !slices.Equal(got, want) {
		t.Errorf("consumed values\n got %q\nwant %q", got, want)
	}
	for _, r := range rs {
		if r.Topic != "input-events" || r.Timestamp == "" {
			t.Errorf("record %+v: missing topic or timestamp", r)
		}
		if string(r.Value) == `{"id":"test-1","type":"user-action"}` {
			if r.Key == nil || *r.Key != "test-1" || r.Headers["source"] != "ktool" || r.Headers["trace"] != "abc" {
				t.Errorf("first record lost its key or headers: %+v", r)
			}
		}
	}

	// The three keyed test-1 records share a partition, in order.
	out = mustRun(t, "", append([]string{"consume", "input-events", "--max", "8", "--format", "pretty"}, b...)...)
	for _, w := range []string{"key:     test-1", "headers: source=ktool trace=abc", "  \"type\": \"user-action\"", "this is not valid JSON\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("pretty output does not show %q:\n%s", w, out)
		}
	}
}

func TestFakeConsumeOffsets(t *testing.T) {
	addr := fakeCluster(t, "one")
	b := []string{"--brokers", addr}
	for _, v := range []string{"1", "2", "3", "4"} {
		mustRun(t, "", append([]string{"produce", "one", v, "--key", "same"}, b...)...)
	}
	tests := []struct {
		offset string
		want   []string
	}{
		{"beginning", []string{"1", "2", "3", "4"}},
		{"2", []string{"3", "4"}},
		{"-1", []string{"4"}},
		{"end", nil},
	}
	for _, tt := range tests {
		stdout, stderr, code := ktool(t, "", append([]string{"consume", "one", "--offset", tt.offset, "--timeout", "1s", "--format", "value"}, b...)...)
		if code != exitOK {
			t.Fatalf("--offset %s: exit %d: %s", tt.offset, code, stderr)
		}
		got := strings.Fields(stdout)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("--offset %s: got %q, want %q", tt.offset, got, tt.want)
		}
		if !strings.Contains(stderr, "(no new records for 1s)") {
			t.Errorf("--offset %s: summary %q", tt.offset, stderr)
		}
	}
}

func TestFakeIsolation(t *testing.T) {
	addr := fakeCluster(t, "txn")
	ctx := t.Context()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("ktool-test"), kgo.DefaultProduceTopic("txn"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, tx := range []struct {
		value string
		end   kgo.TransactionEndTry
	}{{"committed", kgo.TryCommit}, {"aborted", kgo.TryAbort}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, kgo.StringRecord(tx.value)).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, tx.end); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		isolation []string
		want      []string
	}{
		{nil, []string{"committed"}}, // read_committed is the default
		{[]string{"--isolation", "read_committed"}, []string{"committed"}},
		{[]string{"--isolation", "read_uncommitted"}, []string{"aborted", "committed"}},
	} {
		args := append([]string{"consume", "txn", "--brokers", addr, "--timeout", "1s", "--format", "value"}, tt.isolation...)
		got := strings.Fields(mustRun(t, "", args...))
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.isolation, got, tt.want)
		}
	}
}

func TestFakeTopics(t *testing.T) {
	addr := fakeCluster(t, "existing")
	b := []string{"--brokers", addr}

	out := mustRun(t, "", append([]string{"topics", "create", "new-a", "new-b", "--partitions", "2", "--replication-factor", "1",
		"--config", "retention.ms=60000", "--config", "cleanup.policy=compact"}, b...)...)
	for _, w := range []string{"created topic new-a: 2 partitions, replication factor 1", "created topic new-b: 2 partitions"} {
		if !strings.Contains(out, w) {
			t.Errorf("create output does not say %q:\n%s", w, out)
		}
	}

	_, stderr, code := ktool(t, "", append([]string{"topics", "create", "existing"}, b...)...)
	if code != exitRuntime || !strings.Contains(stderr, "topic existing already exists (--if-not-exists accepts that)") {
		t.Errorf("create existing: exit %d, %s", code, stderr)
	}
	out = mustRun(t, "", append([]string{"topics", "create", "existing", "--if-not-exists"}, b...)...)
	if !strings.Contains(out, "topic existing already exists") {
		t.Errorf("create --if-not-exists: %s", out)
	}

	out = mustRun(t, "", append([]string{"topics", "list"}, b...)...)
	if !regexp.MustCompile(`(?m)^TOPIC +PARTITIONS +REPLICATION\nexisting +3 +1\nnew-a +2 +1\nnew-b +2 +1\n`).MatchString(out) {
		t.Errorf("topics list:\n%s", out)
	}

	mustRun(t, "", append([]string{"produce", "new-a", "x"}, b...)...)
	out = mustRun(t, "", append([]string{"topics", "describe", "new-a"}, b...)...)
	for _, re := range []string{
		`(?m)^topic: +new-a$`, `(?m)^partitions: +2$`, `(?m)^replication factor: +1$`,
		`(?m)^PARTITION +LEADER +REPLICAS +ISR +START +END$`, `(?m)^0 +\d+ +\d+ +\d+ +0 +[01]$`, `(?m)^1 +\d+ +\d+ +\d+ +0 +[01]$`,
		`(?m)^  cleanup.policy=compact$`, `(?m)^  retention.ms=60000$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("describe output does not match %s:\n%s", re, out)
		}
	}
	out = mustRun(t, "", append([]string{"topics", "describe", "existing", "--all-configs"}, b...)...)
	if !strings.Contains(out, "configs (all):") {
		t.Errorf("describe --all-configs:\n%s", out)
	}
}

func TestFakeLag(t *testing.T) {
	addr := fakeCluster(t, "lagged")
	b := []string{"--brokers", addr}
	for i := range 5 {
		mustRun(t, "", append([]string{"produce", "lagged", strings.Repeat("v", i+1), "--key", "one-partition"}, b...)...)
	}
	_, stderr, code := ktool(t, "", append([]string{"consume", "lagged", "--group", "g1", "--max", "3", "--format", "value"}, b...)...)
	if code != exitOK || !strings.Contains(stderr, "3 records from lagged (reached --max 3)") {
		t.Fatalf("consume --group: exit %d, %s", code, stderr)
	}
	out := mustRun(t, "", append([]string{"lag", "g1"}, b...)...)
	for _, re := range []string{
		`(?m)^group g1: state Empty, 0 members$`,
		`(?m)^TOPIC +PARTITION +COMMITTED +END +LAG +MEMBER$`,
		`(?m)^lagged +\d +3 +5 +2 +-$`,
		`(?m)^TOTAL +2$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("lag output does not match %s:\n%s", re, out)
		}
	}
	// The group resumes where it committed.
	out = mustRun(t, "", append([]string{"consume", "lagged", "--group", "g1", "--timeout", "1s", "--format", "value"}, b...)...)
	if got := strings.Fields(out); !slices.Equal(got, []string{"vvvv", "vvvvv"}) {
		t.Errorf("second consume of the group read %q, want the last two", got)
	}
	if out := mustRun(t, "", append([]string{"lag", "g1"}, b...)...); !regexp.MustCompile(`(?m)^TOTAL +0$`).MatchString(out) {
		t.Errorf("lag after catching up:\n%s", out)
	}

	_, stderr, code = ktool(t, "", append([]string{"lag", "no-such-group"}, b...)...)
	if code != exitRuntime || !strings.Contains(stderr, "consumer group no-such-group does not exist") {
		t.Errorf("lag of a missing group: exit %d, %s", code, stderr)
	}
}

func TestFakeMissingTopic(t *testing.T) {
	addr := fakeCluster(t, "present")
	for _, args := range [][]string{
		{"produce", "absent", "v"},
		{"consume", "absent"},
		{"topics", "describe", "present", "absent"},
	} {
		_, stderr, code := ktool(t, "", append(args, "--brokers", addr)...)
		want := "topic absent does not exist; create it with `ktool topics create absent`"
		if code != exitRuntime || !strings.Contains(stderr, want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", args, code, stderr, want)
		}
	}
}
