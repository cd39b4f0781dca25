package ktool

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
	"github.com/event-processor/event-processor/verify/verifytest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// verifyFixture produces 200 mixed inputs to "in" and their results, with
// the violation inject makes (none when nil), to "out" and "err".
func verifyFixture(t *testing.T, inject *verify.Kind) []string {
	t.Helper()
	addr := fakeCluster(t, "in", "out", "err")
	opts := []kgo.Opt{kgo.SeedBrokers(addr)}
	cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("in"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var inputs []*kgo.Record
	for _, v := range examples.Mixed(200, 3) {
		inputs = append(inputs, &kgo.Record{Value: v})
	}
	if err := cl.ProduceSync(t.Context(), inputs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg := processor.DefaultConfig()
	cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic = "in", "out", "err"
	rt, err := processor.NewRouter(cfg, cfg.MaxRecordBytes, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	results := verifytest.Results(rt, inputs)
	if inject != nil {
		results = verifytest.Inject(*inject, results, "err")
	}
	if err := verifytest.Produce(t.Context(), opts, "t", results, true); err != nil {
		t.Fatal(err)
	}
	return []string{"verify", "--brokers", addr, "--input-topic", "in", "--output-topic", "out", "--error-topic", "err"}
}

func TestFakeVerify(t *testing.T) {
	args := verifyFixture(t, nil)
	out := mustRun(t, "", args...)
	for _, want := range []string{"input         in: 200 records in 3 partitions", "errors        20 on err", "exactly once: each of the 200 inputs"} {
		if !strings.Contains(out, want) {
			t.Errorf("clean verify lacks %q:\n%s", want, out)
		}
	}
	_, stderr, code := ktool(t, "", append(args, "--pipeline-name", "other")...)
	if code != exitRuntime || !strings.Contains(stderr, "NOT exactly once: 180 mismatched") {
		t.Errorf("verify with another pipeline name: exit %d, %s", code, stderr)
	}

	k := verify.Duplicated
	args = verifyFixture(t, &k)
	stdout, stderr, code := ktool(t, "", append(args, "--format", "json")...)
	var rep struct {
		OK         bool             `json:"ok"`
		Inputs     int64            `json:"inputs"`
		Violations map[string]int64 `json:"violations"`
		Examples   map[string][]struct {
			Input  *verify.Coordinates `json:"input"`
			Result *verify.Coordinates `json:"result"`
		} `json:"examples"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, stdout)
	}
	if code != exitRuntime || rep.OK || rep.Inputs != 200 || rep.Violations["duplicated"] != 1 || len(rep.Examples["duplicated"]) != 1 ||
		rep.Examples["duplicated"][0].Result == nil || !strings.Contains(stderr, "NOT exactly once: 1 duplicated") {
		t.Errorf("verify of a duplicate: exit %d, %+v, stderr %s", code, rep, stderr)
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	b := []string{"--brokers", "127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "in"}, "verify takes no arguments"},
		{[]string{"verify", "--input-topic", "x", "--output-topic", "x"}, "must be three different topics"},
		{[]string{"verify", "--error-topic", ""}, "--error-topic is empty"},
		{[]string{"verify", "--from", "-1"}, "--from must be an offset of 0 or more"},
		{[]string{"verify", "--to", "yesterday"}, `--to must be an offset (0 or more) or an RFC 3339 time`},
		{[]string{"verify", "--from", "10", "--to", "5"}, "--from 10 is after --to 5"},
		{[]string{"verify", "--format", "yaml"}, `--format must be text or json, got "yaml"`},
		{[]string{"verify", "--show", "-1"}, "--show must be 0 or more"},
		{[]string{"verify", "--timeout", "0s"}, "--timeout must be more than 0"},
		{[]string{"verify", "--max-record-bytes", "10"}, "--max-record-bytes must be between"},
	} {
		_, stderr, code := ktool(t, "", append(tc.args, b...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("ktool %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
