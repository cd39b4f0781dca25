package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/verify"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The fault campaign: processor instances run as OS processes of the built
// binary, each behind its own proxies (a slot), against a 3-node cluster,
// while a producer writes a steady seeded mix and a read_committed reader
// watches for duplicates. Faults of every kind are injected one after the
// other; after each, the time until the group has committed everything
// produced up to the fault's end is its recovery time. At the end the
// results are checked with package verify.

// The instances' timings: short, so that faults that wait them out fit in
// the campaign.
const (
	chaosSessionTimeout = 6 * time.Second // the broker's minimum
	chaosTxnTimeout     = 5 * time.Second
	// chaosZombieFreeze is how long a zombie stays frozen: past its
	// session and transaction timeouts, so the group has moved its
	// partitions and the coordinator has aborted its transaction.
	chaosZombieFreeze = chaosSessionTimeout + chaosTxnTimeout + 3*time.Second
	// chaosBlackhole is longer than kgo's request timeout overhead (10s)
	// and the transaction timeout, so requests time out and the session
	// is given up, not just delayed.
	chaosBlackhole = 15 * time.Second
	// chaosNetFault is how long latency, bandwidth and proxy-down last.
	chaosNetFault = 8 * time.Second
	// chaosEndLatency delays the responses from the transaction
	// coordinator so that End lasts at least this long (well under the
	// transaction timeout, so that transactions still commit).
	chaosEndLatency = time.Second
)

// Recovery bounds, from the fault (or its end) until the group has
// committed every input produced up to then. The slowest path after a
// process or network fault is a session timeout (6s, the group moves or
// returns partitions), a transaction timeout (5s, an End that cannot
// finish, or the coordinator aborting a zombie's transaction), the
// session rebuild's backoff (up to 10s) and draining the backlog: about
// 25s; twice that, rounded up, allows for a loaded 2-core machine. A
// killed broker adds the broker session timeout (9s) before its
// partitions and coordinators move, and the client's metadata refresh.
// Leaders moving under a slow link (slow-link-election) cost an End that
// fails at its bound (10s) and a session rebuilt at a second a round trip
// (leave, join, sync, offsets, producer id, fetch, produce: about 25s), the
// broker-kill class.
var recoveryBound = map[string]time.Duration{
	"default":            60 * time.Second,
	"broker-kill":        90 * time.Second,
	"slow-link-election": 90 * time.Second,
}

func boundOf(kind string) time.Duration {
	if d, ok := recoveryBound[kind]; ok {
		return d
	}
	if strings.HasPrefix(kind, "broker-kill") {
		return recoveryBound["broker-kill"]
	}
	return recoveryBound["default"]
}

// campaignConfig sizes a campaign. The short one (the defaults) runs in
// `make test`; `make chaos` sets CHAOS_EVENTS and CHAOS_SEED.
type campaignConfig struct {
	Seed   uint64 // CHAOS_SEED: the events, the fault order and timings
	Events int    // CHAOS_EVENTS: keep injecting rounds of faults until at least this many inputs are produced
	Rounds int    // CHAOS_ROUNDS: at least this many rounds (each has every kind of fault)
	Rate   int    // CHAOS_RATE: inputs produced every 100ms
	// CHAOS_FAULTS: a comma-separated list of fault units (faultUnits'
	// names) that makes every round exactly these, in this order, to
	// replay one sequence many times.
	Faults []string
	// CHAOS_LOGS: a directory the instances' whole logs are written to,
	// one file per process.
	Logs string
}

func campaignFromEnv(t *testing.T) campaignConfig {
	cfg := campaignConfig{Seed: 1, Rounds: 1, Rate: 40}
	for name, v := range map[string]any{"CHAOS_SEED": &cfg.Seed, "CHAOS_EVENTS": &cfg.Events, "CHAOS_ROUNDS": &cfg.Rounds, "CHAOS_RATE": &cfg.Rate} {
		s := os.Getenv(name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not a number", name, s)
		}
		switch p := v.(type) {
		case *uint64:
			*p = n
		case *int:
			*p = int(n)
		}
	}
	if s := os.Getenv("CHAOS_FAULTS"); s != "" {
		cfg.Faults = strings.Split(s, ",")
	}
	cfg.Logs = os.Getenv("CHAOS_LOGS")
	return cfg
}

// campaign is one run's state.
type campaign struct {
	t     *testing.T
	c     *Cluster
	f     *Faults
	cfg   campaignConfig
	rng   *rand.Rand
	p     *pipeline
	procs [chaosSlots]*chaosProc
	stats campaignStats
	// nodeKills counts broker-kill-node faults, which take the nodes in
	// turn.
	nodeKills int
	// launched counts the instances started, to name their log files.
	launched int
}

type campaignStats struct {
	faults     map[string]int
	recoveries map[string][]time.Duration
	txns       map[string]float64 // committed, aborted, failed, from /metrics
	rebuilds   float64
	commitLogs int64 // commit lines in the instances' logs, to check the metrics against
}

// chaosProc is one processor instance on a slot.
type chaosProc struct {
	*proc
	slot    int
	txnID   string
	http    string
	commits atomic.Int64 // "transaction committed" log lines
	mu      sync.Mutex
	at      [2]time.Time // when the last two were written
	endDur  time.Duration
}

// commitWatch counts the commit lines of a processor's debug log as they
// are written, and keeps when the last two were written and the End
// duration the last one reports.
type commitWatch struct {
	n  *atomic.Int64
	mu *sync.Mutex
	at *[2]time.Time
	d  *time.Duration
}

var endDuration = regexp.MustCompile(`end_duration=(\S+)`)

func (w commitWatch) Write(b []byte) (int, error) {
	if n := bytes.Count(b, []byte(`msg="transaction committed"`)); n > 0 {
		w.mu.Lock()
		w.at[0], w.at[1] = w.at[1], time.Now()
		if m := endDuration.FindSubmatch(b); m != nil {
			*w.d, _ = time.ParseDuration(string(m[1]))
		}
		w.mu.Unlock()
		w.n.Add(int64(n))
	}
	return len(b), nil
}

// lastCommits returns when pr logged its last two commits and how long the
// last End took.
func (pr *chaosProc) lastCommits() (prev, last time.Time, end time.Duration) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.at[0], pr.at[1], pr.endDur
}

func testCampaign(t *testing.T, c *Cluster, f *Faults) {
	cfg := campaignFromEnv(t)
	cp := &campaign{t: t, c: c, f: f, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)),
		stats: campaignStats{faults: map[string]int{}, recoveries: map[string][]time.Duration{}, txns: map[string]float64{}}}
	start := time.Now()
	t.Logf("campaign: seed %d, at least %d events and %d rounds, %d events every 100ms", cfg.Seed, cfg.Events, cfg.Rounds, cfg.Rate)

	name := "chaos-" + strconv.FormatUint(cfg.Seed, 10) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	cp.p = &pipeline{b: &Broker{Addr: c.Nodes()[0].Direct}, input: name + "-in", output: name + "-out", errored: name + "-err", group: name + "-group"}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for _, topic := range []string{cp.p.input, cp.p.output, cp.p.errored} {
		if err := c.CreateTopic(ctx, topic, 6, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AwaitInSync(ctx, cp.p.input, cp.p.output, cp.p.errored); err != nil {
		t.Fatal(err)
	}
	binary(t, "event-processor")
	live := cp.p.startLiveReader(t, cp.p.output, cp.p.errored)
	prod := cp.startProducer()

	cp.procs[0] = cp.startInstance(0)
	cp.recover("start", time.Now())

	for round := 0; round < cfg.Rounds || prod.produced.Load() < int64(cfg.Events); round++ {
		units := cp.round(round)
		for _, unit := range units {
			for _, fault := range unit {
				if t.Failed() {
					break
				}
				fault()
			}
		}
		t.Logf("round %d done after %s: %d inputs produced", round+1, time.Since(start).Round(time.Second), prod.produced.Load())
		if t.Failed() {
			break
		}
	}

	produced := prod.stop(t)
	report := cp.verify(produced)
	for _, pr := range cp.procs {
		if pr != nil {
			cp.stopInstance(pr, syscall.SIGTERM)
		}
	}
	checkLive(t, live, int(produced))
	cp.report(time.Since(start), produced, report)
}

// faultUnits are the campaign's faults by name. Scale-up, zombie and
// scale-down stay together as one unit: the zombie needs another instance
// to take over from it.
func (cp *campaign) faultUnits() map[string][]func() {
	return map[string][]func(){
		"latency": {cp.latency}, "slow-link": {cp.slowLink}, "slow-link-election": {cp.slowLinkElection}, "bandwidth": {cp.bandwidth},
		"reset-peer": {cp.resetPeer}, "blackhole": {cp.blackhole}, "proxy-down": {cp.proxyDown},
		"broker-kill-txn-coordinator":   {cp.brokerKill("broker-kill-txn-coordinator")},
		"broker-kill-group-coordinator": {cp.brokerKill("broker-kill-group-coordinator")},
		"broker-kill-controller":        {cp.brokerKill("broker-kill-controller")},
		"broker-kill-node":              {cp.brokerKill("broker-kill-node")},
		"sigkill":                       {cp.sigkill}, "sigkill-in-end": {cp.sigkillInEnd}, "sigterm": {cp.sigterm},
		"scale": {cp.scaleUp, cp.zombie, cp.scaleDown},
	}
}

// round returns one round of faults in a seeded order: each unit runs in
// order, units are shuffled; or, with CHAOS_FAULTS, the units named there in
// their order.
func (cp *campaign) round(round int) [][]func() {
	all := cp.faultUnits()
	if len(cp.cfg.Faults) > 0 {
		var units [][]func()
		for _, name := range cp.cfg.Faults {
			u, ok := all[name]
			if !ok {
				names := slices.Sorted(maps.Keys(all))
				cp.t.Fatalf("CHAOS_FAULTS: no fault unit %q; the units are %s", name, strings.Join(names, ", "))
			}
			units = append(units, u)
		}
		return units
	}
	names := []string{"latency", "slow-link", "bandwidth", "reset-peer", "blackhole", "proxy-down",
		"broker-kill-txn-coordinator", "broker-kill-group-coordinator", "sigkill", "sigkill-in-end", "sigterm", "scale"}
	if round > 0 || cp.cfg.Events > 0 {
		// The long campaign also bounces the controller quorum leader
		// and each node in turn. slow-link-election is run on its own
		// (CHAOS_FAULTS): docs/reliability.md.
		names = append(names, "broker-kill-controller", "broker-kill-node")
	}
	units := make([][]func(), len(names))
	for i, name := range names {
		units[i] = all[name]
	}
	if round > 0 || cp.cfg.Seed != 1 {
		cp.rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
	}
	return units
}

// startInstance runs the binary on slot, bootstrapped at the slot's
// proxies, with a debug log (one line per commit) and its metrics on a
// free port. It is killed at the end of the test if still alive.
func (cp *campaign) startInstance(slot int) *chaosProc {
	t := cp.t
	t.Helper()
	pr := &chaosProc{slot: slot, txnID: fmt.Sprintf("%s-%c", cp.p.group, 'a'+slot), http: freeAddr(t)}
	args := []string{"run",
		"--kafka-bootstrap-servers", strings.Join(cp.c.SlotBootstrap(slot), ","),
		"--input-topic", cp.p.input, "--output-topic", cp.p.output, "--error-topic", cp.p.errored,
		"--consumer-group", cp.p.group, "--transactional-id", pr.txnID,
		"--http-addr", pr.http, "--log-format", "text", "--log-level", "debug",
		"--session-timeout", chaosSessionTimeout.String(), "--txn-timeout", chaosTxnTimeout.String(),
	}
	var also io.Writer = commitWatch{&pr.commits, &pr.mu, &pr.at, &pr.endDur}
	if cp.cfg.Logs != "" {
		cp.launched++
		if err := os.MkdirAll(cp.cfg.Logs, 0o755); err != nil {
			t.Fatalf("CHAOS_LOGS: %v", err)
		}
		f, err := os.Create(filepath.Join(cp.cfg.Logs, fmt.Sprintf("%s-%03d.log", pr.txnID, cp.launched)))
		if err != nil {
			t.Fatalf("CHAOS_LOGS: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		also = io.MultiWriter(also, f)
	}
	pr.proc = launch(t, pr.txnID, args, also,
		func(out string) string {
			return "(the last lines other than commits)\n" + tail(withoutCommits(out), 40)
		})
	return pr
}

func withoutCommits(log string) string {
	var out []string
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.Contains(line, `msg="transaction committed"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// stopInstance scrapes pr's metrics into the campaign's counts, then
// signals it; after SIGTERM it must exit 0 within the shutdown bound.
func (cp *campaign) stopInstance(pr *chaosProc, sig syscall.Signal) {
	t := cp.t
	t.Helper()
	cp.scrape(pr)
	pr.signal(t, sig)
	defer func() { cp.stats.commitLogs += pr.commits.Load() }()
	code := pr.wait(t, 30*time.Second)
	if sig == syscall.SIGTERM && code != 0 {
		t.Errorf("%s exited %d after SIGTERM, want 0; its log:\n%s", pr.txnID, code, tail(withoutCommits(pr.out.String()), 30))
	}
	cp.procs[pr.slot] = nil
}

// scrape adds pr's transaction and rebuild counters to the campaign's; a
// process that cannot answer (frozen, dying) is skipped.
func (cp *campaign) scrape(pr *chaosProc) {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + pr.http + "/metrics")
	if err != nil {
		cp.t.Logf("scraping %s: %v", pr.txnID, err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, `event_processor_transactions_total{result="`):
			cp.stats.txns[strings.TrimSuffix(strings.TrimPrefix(name, `event_processor_transactions_total{result="`), `"}`)] += v
		case name == "event_processor_session_rebuilds_total":
			cp.stats.rebuilds += v
		}
	}
}

// awaitCommit waits for pr's next commit after now.
func (cp *campaign) awaitCommit(pr *chaosProc, timeout time.Duration) {
	cp.t.Helper()
	n := pr.commits.Load()
	deadline := time.Now().Add(timeout)
	for pr.commits.Load() == n {
		if time.Now().After(deadline) {
			cp.t.Fatalf("%s committed nothing within %s", pr.txnID, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recover measures the time from from until the group has committed every
// input produced up to now, records it under kind and checks its bound.
func (cp *campaign) recover(kind string, from time.Time) {
	t := cp.t
	t.Helper()
	bound := boundOf(kind)
	ctx, cancel := context.WithTimeout(t.Context(), bound+30*time.Second)
	defer cancel()
	// Right after a broker died the admin client may still ask it.
	var targets verify.Offsets
	var err error
	for {
		if targets, err = verify.EndOffsets(ctx, cp.c.Admin(), cp.p.input); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %s: %v", kind, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	err = verify.AwaitCommitted(ctx, cp.c.Admin(), cp.p.group, cp.p.input, targets, nil)
	d := time.Since(from)
	if err != nil {
		t.Fatalf("after %s the group did not catch up within %s: %v", kind, bound+30*time.Second, err)
	}
	if kind != "start" {
		cp.stats.faults[kind]++
		cp.stats.recoveries[kind] = append(cp.stats.recoveries[kind], d)
	}
	t.Logf("%-30s recovered in %s", kind, d.Round(10*time.Millisecond))
	if d > bound {
		t.Errorf("%s: recovery took %s, over its bound of %s", kind, d.Round(time.Millisecond), bound)
	}
}

func (cp *campaign) jitter(max time.Duration) time.Duration {
	return time.Duration(cp.rng.Int64N(int64(max)))
}

// --- network faults, on instance a's proxies (slot 0) ---

func (cp *campaign) latency() {
	cp.netFault("latency", chaosNetFault, Latency("upstream", 150, 100), Latency("downstream", 150, 100))
}

// slowLink delays every answer to instance a by chaosEndLatency, from
// every broker, so that its coordinators and the leaders of everything it
// reads and writes are all behind the slow link (as the broker kills can
// leave them on one node for sigkill-in-end), and requires commits while
// it lasts: End's round trips then add up to about its transaction
// timeout, which must not fail a transaction the broker commits.
func (cp *campaign) slowLink() { cp.slow("slow-link", false) }

// slowLinkElection is slowLink with the leaders moving under it: 1.5 s
// in, every partition's preferred replica is elected leader, which moves
// back the leaders and coordinators that the last broker restart left on
// other nodes (what Kafka's own leader rebalance does at a moment of its
// choosing). The transaction open then may not end within its timeout:
// its produces, offsets and EndTxn can meet leaders and coordinators that
// moved, and each costs a lookup and a new connection at a second a round
// trip. If End fails, the session is rebuilt on the slow link and the
// commits come from the new session.
func (cp *campaign) slowLinkElection() { cp.slow("slow-link-election", true) }

// slow runs the slow link for kind, with an election if elect, until
// instance a has committed twice, each commit within the kind's recovery
// bound.
func (cp *campaign) slow(kind string, elect bool) {
	t := cp.t
	a := cp.procs[0]
	time.Sleep(cp.jitter(time.Second))
	lat := Latency("downstream", int(chaosEndLatency/time.Millisecond), 0)
	if err := cp.f.Add(0, nil, lat); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if elect {
		time.Sleep(1500 * time.Millisecond)
		moved, err := cp.c.ElectPreferredLeaders(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: the preferred replicas of %d partitions were elected leaders", kind, moved)
	}
	for range 2 {
		cp.awaitCommit(a, boundOf(kind))
	}
	t.Logf("%s: committed twice %s after the link slowed", kind, time.Since(began).Round(10*time.Millisecond))
	if err := cp.f.Remove(0, nil, lat); err != nil {
		t.Fatal(err)
	}
	cp.recover(kind, time.Now())
}

func (cp *campaign) bandwidth() {
	cp.netFault("bandwidth", chaosNetFault, Bandwidth("upstream", 16), Bandwidth("downstream", 16))
}

func (cp *campaign) blackhole() {
	cp.netFault("blackhole", chaosBlackhole, Blackhole("upstream"), Blackhole("downstream"))
}

func (cp *campaign) netFault(kind string, d time.Duration, toxics ...Toxic) {
	t := cp.t
	t.Helper()
	time.Sleep(cp.jitter(time.Second))
	if err := cp.f.Add(0, nil, toxics...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	if err := cp.f.Remove(0, nil, toxics...); err != nil {
		t.Fatal(err)
	}
	cp.recover(kind, time.Now())
}

func (cp *campaign) proxyDown() {
	t := cp.t
	time.Sleep(cp.jitter(time.Second))
	if err := cp.f.Down(0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(chaosNetFault)
	if err := cp.f.Up(0); err != nil {
		t.Fatal(err)
	}
	cp.recover("proxy-down", time.Now())
}

// resetPeer resets instance a's connections to its transaction
// coordinator right after a commit, three times: the next request there
// is the next transaction's EndTxn (under transaction.version 2 nothing
// else of a transaction goes to the coordinator; fetches and produces do
// only if it also leads a partition).
func (cp *campaign) resetPeer() {
	t := cp.t
	a := cp.procs[0]
	coord, err := cp.c.TxnCoordinator(t.Context(), a.txnID)
	if err != nil {
		t.Fatal(err)
	}
	reset := ResetPeer("upstream", 0)
	for range 3 {
		cp.awaitCommit(a, 30*time.Second)
		if err := cp.f.Add(0, []int32{coord}, reset); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if err := cp.f.Remove(0, []int32{coord}, reset); err != nil {
			t.Fatal(err)
		}
		time.Sleep(cp.jitter(time.Second))
	}
	cp.recover("reset-peer", time.Now())
}

// --- broker faults ---

// brokerKill kills the node named by kind hard, measures recovery while it
// is down (two replicas of three are enough), then restarts it with its
// data and waits until every replica is in sync again.
func (cp *campaign) brokerKill(kind string) func() {
	return func() {
		t := cp.t
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		var id int32
		var err error
		switch kind {
		case "broker-kill-txn-coordinator":
			id, err = cp.c.TxnCoordinator(ctx, cp.procs[0].txnID)
		case "broker-kill-group-coordinator":
			id, err = cp.c.GroupCoordinator(ctx, cp.p.group)
		case "broker-kill-controller":
			id, err = cp.c.QuorumLeader(ctx)
		default: // each node in turn
			id = cp.c.Nodes()[cp.nodeKills%len(cp.c.Nodes())].ID
			cp.nodeKills++
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: killing node %d", kind, id)
		killed := time.Now()
		if err := cp.c.Kill(ctx, id); err != nil {
			t.Fatal(err)
		}
		cp.recover(kind, killed)
		if err := cp.c.Restart(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := cp.c.AwaitInSync(ctx, cp.p.input, cp.p.output, cp.p.errored); err != nil {
			t.Fatalf("after restarting node %d: %v", id, err)
		}
	}
}

// --- processor faults ---

func (cp *campaign) sigkill() {
	a := cp.procs[0]
	cp.awaitCommit(a, 30*time.Second)
	time.Sleep(cp.jitter(200 * time.Millisecond))
	cp.stopInstance(a, syscall.SIGKILL)
	cp.procs[0] = cp.startInstance(0)
	cp.recover("sigkill", time.Now())
}

// sigkillInEnd delays every response from instance a's transaction
// coordinator by chaosEndLatency, so that End (which waits for EndTxn's
// answer there) lasts at least that long, and kills a in the last quarter
// of an End, timed from the previous commits' period and End duration:
// EndTxn has reached the coordinator, which may apply a commit the process
// never hears of.
func (cp *campaign) sigkillInEnd() {
	t := cp.t
	a := cp.procs[0]
	coord, err := cp.c.TxnCoordinator(t.Context(), a.txnID)
	if err != nil {
		t.Fatal(err)
	}
	lat := Latency("downstream", int(chaosEndLatency/time.Millisecond), 0)
	if err := cp.f.Add(0, []int32{coord}, lat); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the last two Ends fully under latency
		cp.awaitCommit(a, 60*time.Second)
	}
	prev, last, end := a.lastCommits()
	period := last.Sub(prev)
	killAt := last.Add(period - end/4)
	time.Sleep(time.Until(killAt))
	cp.stopInstance(a, syscall.SIGKILL)
	t.Logf("sigkill-in-end: commits every %s, End took %s; killed %s after the last commit",
		period.Round(time.Millisecond), end.Round(time.Millisecond), time.Since(last).Round(time.Millisecond))
	if a.lastCommitAfter(last) {
		t.Logf("sigkill-in-end: a commit was logged before the kill landed; the kill fell into the next transaction")
	}
	if err := cp.f.Remove(0, []int32{coord}, lat); err != nil {
		t.Fatal(err)
	}
	cp.procs[0] = cp.startInstance(0)
	cp.recover("sigkill-in-end", time.Now())
}

func (pr *chaosProc) lastCommitAfter(t time.Time) bool {
	_, last, _ := pr.lastCommits()
	return last.After(t)
}

func (cp *campaign) sigterm() {
	cp.stopInstance(cp.procs[0], syscall.SIGTERM)
	cp.procs[0] = cp.startInstance(0)
	cp.recover("sigterm", time.Now())
}

func (cp *campaign) scaleUp() {
	for slot := 1; slot < chaosSlots; slot++ {
		cp.procs[slot] = cp.startInstance(slot)
	}
	cp.recover("scale-up", time.Now())
}

// zombie freezes instance b (SIGSTOP) past its session and transaction
// timeouts while a and c take its partitions over, then lets it run again:
// whatever it had open must not commit.
func (cp *campaign) zombie() {
	t := cp.t
	b := cp.procs[1]
	cp.awaitCommit(b, 60*time.Second)
	time.Sleep(cp.jitter(100 * time.Millisecond))
	b.signal(t, syscall.SIGSTOP)
	time.Sleep(chaosZombieFreeze)
	b.signal(t, syscall.SIGCONT)
	cp.recover("zombie", time.Now())
}

func (cp *campaign) scaleDown() {
	for slot := chaosSlots - 1; slot >= 1; slot-- {
		cp.stopInstance(cp.procs[slot], syscall.SIGTERM)
	}
	cp.recover("scale-down", time.Now())
}

// --- input, verification, report ---

type chaosProducer struct {
	produced atomic.Int64
	stopc    chan struct{}
	done     chan struct{}
	err      error
}

// startProducer writes cfg.Rate inputs every 100ms on the DIRECT
// listeners until stopped: keyed (200 keys), about 5% invalid of every
// kind, the same sequence for the same seed.
func (cp *campaign) startProducer() *chaosProducer {
	t := cp.t
	cl, err := cp.c.Client(kgo.DefaultProduceTopic(cp.p.input))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	rng := rand.New(rand.NewPCG(cp.cfg.Seed, 5))
	var valid [][]byte
	for i, e := range examples.Mixed(10_000, cp.cfg.Seed) {
		if i%10 != 9 {
			valid = append(valid, e)
		}
	}
	next := func() *kgo.Record {
		key := fmt.Appendf(nil, "user-%03d", rng.IntN(200))
		if rng.IntN(100) < 5 {
			return &kgo.Record{Key: key, Value: examples.Invalid[rng.IntN(len(examples.Invalid))]}
		}
		return &kgo.Record{Key: key, Value: valid[rng.IntN(len(valid))]}
	}
	pr := &chaosProducer{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			recs := make([]*kgo.Record, cp.cfg.Rate)
			for i := range recs {
				recs[i] = next()
			}
			if pr.err = cl.ProduceSync(context.Background(), recs...).FirstErr(); pr.err != nil {
				return
			}
			pr.produced.Add(int64(len(recs)))
			select {
			case <-pr.stopc:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-pr.stopc:
		default:
			close(pr.stopc)
		}
		<-pr.done
	})
	return pr
}

func (pr *chaosProducer) stop(t *testing.T) int64 {
	t.Helper()
	close(pr.stopc)
	select {
	case <-pr.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the producer did not stop within 2 minutes")
	}
	if pr.err != nil {
		t.Fatalf("producing inputs: %v", pr.err)
	}
	return pr.produced.Load()
}

// verify waits for the group to commit every input and checks the results
// with package verify.
func (cp *campaign) verify(produced int64) *verify.Report {
	t := cp.t
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cfg := cp.p.config("verify")
	r, err := verify.Run(ctx, []kgo.Opt{kgo.SeedBrokers(cp.c.Bootstrap()...)}, verify.Config{Processor: cfg, Group: cp.p.group, Examples: 10})
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	if !r.OK() || r.Inputs != produced || r.Outputs+r.Errors != produced {
		var b strings.Builder
		r.WriteText(&b)
		t.Errorf("%d inputs produced, verify says:\n%s", produced, b.String())
	}
	return r
}

var reportMu sync.Mutex

// report prints what the campaign did and measured.
func (cp *campaign) report(took time.Duration, produced int64, r *verify.Report) {
	reportMu.Lock()
	defer reportMu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "fault campaign, seed %d: %s, %d events (%d valid, %d invalid)\n", cp.cfg.Seed, took.Round(time.Second), produced, r.Valid, r.Inputs-r.Valid)
	fmt.Fprintf(&b, "  %-30s %6s %10s %10s %8s\n", "fault", "count", "median", "max", "bound")
	var kinds []string
	for k := range cp.stats.faults {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	total := 0
	for _, k := range kinds {
		ds := slices.Clone(cp.stats.recoveries[k])
		slices.Sort(ds)
		total += cp.stats.faults[k]
		fmt.Fprintf(&b, "  %-30s %6d %10s %10s %8s\n", k, cp.stats.faults[k], ds[len(ds)/2].Round(10*time.Millisecond),
			ds[len(ds)-1].Round(10*time.Millisecond), boundOf(k))
	}
	fmt.Fprintf(&b, "  %d faults in all\n", total)
	fmt.Fprintf(&b, "  transactions: %.0f committed, %.0f aborted, %.0f failed; %.0f session rebuilds (from /metrics before each stop); %d commits logged\n",
		cp.stats.txns["committed"], cp.stats.txns["aborted"], cp.stats.txns["failed"], cp.stats.rebuilds, cp.stats.commitLogs)
	fmt.Fprintf(&b, "  verify: %d inputs, %d outputs, %d errors;", r.Inputs, r.Outputs, r.Errors)
	for _, k := range verify.Kinds() {
		fmt.Fprintf(&b, " %d %s", r.Count(k), k)
	}
	cp.t.Log(b.String())
}
