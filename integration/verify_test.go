package integration

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

// verifyReport is the part of `ktool verify --format json` the test reads.
type verifyReport struct {
	OK         bool             `json:"ok"`
	Inputs     int64            `json:"inputs"`
	Valid      int64            `json:"valid"`
	Outputs    int64            `json:"outputs"`
	Errors     int64            `json:"errors"`
	Violations map[string]int64 `json:"violations"`
}

func (p *pipeline) ktoolVerify(t *testing.T, k *ktoolRunner, extra ...string) (verifyReport, ktoolResult) {
	t.Helper()
	args := append([]string{"verify", "--input-topic", p.input, "--output-topic", p.output, "--error-topic", p.errored,
		"--format", "json", "--timeout", "2m"}, extra...)
	r := k.run(t, "", args...)
	var rep verifyReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("ktool verify: exit %d, stdout is not a JSON report (%v):\n%s\nstderr:\n%s", r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

// TestKtoolVerify runs `ktool verify` against the real broker: on the real
// processor's results it exits 0; with each kind of violation injected
// into otherwise correct results it exits 1 and counts exactly that one;
// results of an aborted transaction (invisible under read_committed) are
// no duplicates.
func TestKtoolVerify(t *testing.T) {
	k := &ktoolRunner{bin: buildKtool(t), addr: broker.Addr}

	t.Run("Processor", func(t *testing.T) {
		p := newPipeline(t, broker, 3, nil)
		inputs := p.produce(t, examples.Mixed(3000, 11))
		p.start(t, p.config("a"))
		rep, r := p.ktoolVerify(t, k, "--group", p.group)
		if r.code != 0 || !rep.OK || rep.Inputs != int64(len(inputs)) || rep.Outputs != 2700 || rep.Errors != 300 || rep.Valid != 2700 {
			t.Fatalf("exit %d, %+v; want exit 0, 3000 inputs, 2700 outputs, 300 errors\nstderr: %s", r.code, rep, r.stderr)
		}
		text := k.mustRun(t, "", "verify", "--input-topic", p.input, "--output-topic", p.output, "--error-topic", p.errored)
		if !strings.Contains(text, "exactly once: each of the 3000 inputs has exactly one result") {
			t.Errorf("text report:\n%s", text)
		}
	})

	// results writes the results the processor would make of inputs, with
	// one violation of kind k unless k is nil, committed, and then their
	// full copy in an aborted transaction.
	results := func(t *testing.T, p *pipeline, k *verify.Kind) {
		t.Helper()
		produced := len(p.produce(t, examples.Mixed(400, 12)))
		// Read them back, in offset order, as the verifier sees them.
		recs, err := ReadAll(t.Context(), p.b.Addr, p.input, kgo.ReadCommitted())
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.config("results")
		rt, err := processor.NewRouter(cfg, cfg.MaxRecordBytes, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		all := verifytest.Results(rt, recs)
		rs := all
		if k != nil {
			rs = verifytest.Inject(*k, all, p.errored)
		}
		opts := []kgo.Opt{kgo.SeedBrokers(p.b.Addr)}
		if err := verifytest.Produce(t.Context(), opts, p.group+"-results", rs, true); err != nil {
			t.Fatal(err)
		}
		if err := verifytest.Produce(t.Context(), opts, p.group+"-results", all, false); err != nil {
			t.Fatal(err)
		}
		if len(recs) != produced {
			t.Fatalf("read back %d inputs, produced %d", len(recs), produced)
		}
	}

	t.Run("AbortedCopyIsInvisible", func(t *testing.T) {
		p := newPipeline(t, broker, 3, nil)
		results(t, p, nil)
		if rep, r := p.ktoolVerify(t, k); r.code != 0 || !rep.OK || rep.Outputs+rep.Errors != 400 {
			t.Fatalf("exit %d, %+v; want exit 0 and 400 results\nstderr: %s", r.code, rep, r.stderr)
		}
	})
	for _, kind := range verify.Kinds() {
		t.Run(kind.String(), func(t *testing.T) {
			p := newPipeline(t, broker, 3, nil)
			results(t, p, &kind)
			rep, r := p.ktoolVerify(t, k)
			others := int64(0)
			for name, n := range rep.Violations {
				if name != kind.String() {
					others += n
				}
			}
			if r.code != 1 || rep.OK || rep.Violations[kind.String()] != 1 || others != 0 || rep.Inputs != 400 {
				t.Fatalf("exit %d, %+v; want exit 1 and exactly one %s\nstderr: %s", r.code, rep, kind, r.stderr)
			}
		})
	}
}
