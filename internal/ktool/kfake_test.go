package ktool

// End-to-end tests of every subcommand against franz-go's in-process fake
// cluster (kfake), on 127.0.0.1. The real-broker versions are in
// integration/ktool_test.go.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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

// newFakeCluster is fakeCluster returning the cluster itself.
func newFakeCluster(t *testing.T, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
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
		{"-10", []string{"1", "2", "3", "4"}},
		{"end", nil},
		// Past the end is clamped to the end, not replayed from the start.
		{"4", nil},
		{"10", nil},
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

// TestFakeConsumeBelowStart checks that an offset below the log start is
// clamped to the start.
func TestFakeConsumeBelowStart(t *testing.T) {
	addr := fakeCluster(t, "trimmed")
	b := []string{"--brokers", addr}
	var partition string
	for _, v := range []string{"1", "2", "3", "4"} {
		partition = producedRE.FindStringSubmatch(mustRun(t, "", append([]string{"produce", "trimmed", v, "--key", "same"}, b...)...))[1]
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var p int32
	fmt.Sscan(partition, &p)
	var o kadm.Offsets
	o.Add(kadm.Offset{Topic: "trimmed", Partition: p, At: 2})
	if _, err := kadm.NewClient(cl).DeleteRecords(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", append([]string{"consume", "trimmed", "--offset", "1", "--timeout", "1s", "--format", "value"}, b...)...)
	if got := strings.Fields(out); !slices.Equal(got, []string{"3", "4"}) {
		t.Errorf("--offset 1 with the log starting at 2: got %q, want [3 4]", got)
	}
}

// TestFakeConsumeLastOnTransactionalTopic checks that --offset -N shows the
// last N records even though transaction markers take offsets.
func TestFakeConsumeLastOnTransactionalTopic(t *testing.T) {
	addr := fakeCluster(t, "txn-last")
	ctx := t.Context()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("ktool-last"), kgo.DefaultProduceTopic("txn-last"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// One partition (one key): a m b m c m d(aborted) m, offsets 0 to 7.
	for _, tx := range []struct {
		value string
		end   kgo.TransactionEndTry
	}{{"a", kgo.TryCommit}, {"b", kgo.TryCommit}, {"c", kgo.TryCommit}, {"d", kgo.TryAbort}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte(tx.value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, tx.end); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--offset", "-1"}, []string{"c"}},
		{[]string{"--offset", "-2"}, []string{"b", "c"}},
		{[]string{"--offset", "-3"}, []string{"a", "b", "c"}},
		{[]string{"--offset", "-100"}, []string{"a", "b", "c"}},
		{[]string{"--offset", "-2", "--isolation", "read_uncommitted"}, []string{"c", "d"}},
		{[]string{"--offset", "-2", "--group", "last-n"}, []string{"b", "c"}},
	} {
		args := append([]string{"consume", "txn-last", "--brokers", addr, "--timeout", "1s", "--format", "value"}, tt.args...)
		got := strings.Fields(mustRun(t, "", args...))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestFakeGroupNeverForms checks that consume --group fails, and says why,
// when the group's coordinator never becomes available.
func TestFakeGroupNeverForms(t *testing.T) {
	c := newFakeCluster(t, "orphan")
	c.ControlKey(int16(kmsg.FindCoordinator), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.FindCoordinatorRequest)
		if req.CoordinatorType != 0 {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		for _, k := range req.CoordinatorKeys {
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key, rc.ErrorCode = k, kerr.CoordinatorNotAvailable.Code
			resp.Coordinators = append(resp.Coordinators, rc)
		}
		return resp, nil, true
	})
	defer func(d time.Duration) { groupJoinTimeout = d }(groupJoinTimeout)
	groupJoinTimeout = 2 * time.Second

	start := time.Now()
	stdout, stderr, code := ktool(t, "", "consume", "orphan", "--group", "g", "--timeout", "1s", "--brokers", c.ListenAddrs()[0])
	if code != exitRuntime {
		t.Errorf("exit %d, want 1; stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, w := range []string{"could not join consumer group g within 2s", "COORDINATOR_NOT_AVAILABLE", "offsets.topic.replication.factor"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q: %s", w, stderr)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to give up", d)
	}
}

// TestFakeProduceLargeRecord checks that produce's record limit is the
// topic's max.message.bytes, and that a record over it is reported as the
// topic's limit.
func TestFakeProduceLargeRecord(t *testing.T) {
	addr := fakeCluster(t, "small")
	b := []string{"--brokers", addr}
	mustRun(t, "", append([]string{"topics", "create", "large", "--partitions", "1", "--config", "max.message.bytes=3000000"}, b...)...)
	big := strings.Repeat("x", 2_000_000)
	out := mustRun(t, big, append([]string{"produce", "large", "-"}, b...)...)
	if !strings.Contains(out, "large: partition 0, offset 0") {
		t.Errorf("produce of 2 MB to a topic allowing 3 MB: %s", out)
	}
	got := mustRun(t, "", append([]string{"consume", "large", "--max", "1", "--format", "value"}, b...)...)
	if len(got) != len(big)+1 {
		t.Errorf("consumed %d bytes, want %d", len(got), len(big)+1)
	}

	_, stderr, code := ktool(t, big, append([]string{"produce", "small", "-"}, b...)...)
	if code != exitRuntime {
		t.Errorf("2 MB to a topic with the default limit: exit %d, want 1", code)
	}
	for _, w := range []string{"larger than topic small's max.message.bytes, 1048588", "--add-config max.message.bytes=N"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q: %s", w, stderr)
		}
	}
}

// A cluster that cannot place the group coordinator: lag says what to
// change, not only the broker's error name.
func TestFakeLagCoordinatorHint(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.ControlKey(int16(kmsg.FindCoordinator), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.FindCoordinatorRequest)
		resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		for _, k := range r.CoordinatorKeys {
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key, rc.ErrorCode = k, kerr.CoordinatorNotAvailable.Code
			resp.Coordinators = append(resp.Coordinators, rc)
		}
		return resp, nil, true
	})
	_, stderr, code := ktool(t, "", "lag", "g", "--brokers", c.ListenAddrs()[0])
	if code != exitRuntime || !strings.Contains(stderr, "COORDINATOR_NOT_AVAILABLE") || !strings.Contains(stderr, "offsets.topic.replication.factor") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
