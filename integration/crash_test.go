package integration

import (
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/internal/syncbuf"
)

// These tests run the event-processor binary as a separate process, so that
// it can be killed or frozen as a crash or a zombie would be.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binary builds ./cmd/<name> once per test run and returns its path.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "event-processor-bin-")
		if buildErr != nil {
			return
		}
		for _, cmd := range []string{"event-processor", "ktool"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, cmd), "../cmd/"+cmd).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("building %s: %v\n%s", cmd, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// proc is an event-processor process.
type proc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
}

// lockedBuffer is a log sink a test reads while it is written.
type lockedBuffer = syncbuf.Buffer

// startProcess runs the binary for p with the given transactional id and
// extra flags; the process is killed at the end of the test if still alive.
func (p *pipeline) startProcess(t *testing.T, txnID string, extra ...string) *proc {
	t.Helper()
	args := []string{"run",
		"--kafka-bootstrap-servers", p.b.Addr,
		"--input-topic", p.input, "--output-topic", p.output, "--error-topic", p.errored,
		"--consumer-group", p.group, "--transactional-id", txnID,
		"--http-addr", "", "--log-format", "text", "--log-level", "info",
		"--session-timeout", "6s", "--txn-max-records", "100",
	}
	return launch(t, txnID, append(args, extra...), nil, func(out string) string { return tail(out, 60) })
}

// launch starts the event-processor binary with args, its output kept in
// the returned proc (and copied to also, when set). It is killed at the
// end of the test if still alive, and if the test failed its output, as
// show cuts it, is logged under name.
func launch(t *testing.T, name string, args []string, also io.Writer, show func(string) string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t, "event-processor"), args...)
	pr := &proc{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	var w io.Writer = pr.out
	if also != nil {
		w = io.MultiWriter(pr.out, also)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(pr.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		<-pr.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, show(pr.out.String()))
		}
	})
	return pr
}

func (pr *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := pr.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (pr *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-pr.done:
		return pr.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("process did not exit within %s; output:\n%s", timeout, tail(pr.out.String(), 40))
		return -1
	}
}

// TestProcessorKilledMidStream kills the processor with SIGKILL while input
// flows and a transaction is likely open, then starts it again with the same
// transactional id: the new instance fences the dead one's transaction, and
// every input has exactly one result.
func TestProcessorKilledMidStream(t *testing.T) {
	p := newPipeline(t, broker, 3, nil)
	live := p.startLiveReader(t, p.output, p.errored)
	binary(t, "event-processor") // built before the clock of the feed starts
	events := examples.Mixed(4000, 6)
	inputs := p.produce(t, events[:1000])
	feed := p.feed(t, events[1000:], 100, 100*time.Millisecond)

	first := p.startProcess(t, "killed-a")
	p.awaitCommitted(t, 1500, time.Minute)
	first.signal(t, syscall.SIGKILL)
	first.wait(t, 10*time.Second)

	second := p.startProcess(t, "killed-a")
	p.awaitCommitted(t, p.committed(t)+500, 2*time.Minute) // the new process is processing
	maps.Copy(inputs, feed.stop(t))
	p.checkExactlyOnce(t, inputs, 2*time.Minute)

	second.signal(t, syscall.SIGTERM)
	if code := second.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	checkLive(t, live, len(inputs))
}

// TestProcessorRestartResumesAtOnce kills the processor with SIGKILL and
// starts it again with the same transactional id, with a session timeout
// of 30 s: as a static member (its transactional id is its
// group.instance.id) the new process takes the partitions back at once,
// instead of waiting until the group gives up on the dead one.
func TestProcessorRestartResumesAtOnce(t *testing.T) {
	const sessionTimeout = 30 * time.Second
	p := newPipeline(t, broker, 3, nil)
	binary(t, "event-processor")
	events := examples.Mixed(3000, 8)
	inputs := p.produce(t, events[:1000])
	first := p.startProcess(t, "restart-a", "--session-timeout", sessionTimeout.String())
	p.awaitCommitted(t, 1000, time.Minute)
	first.signal(t, syscall.SIGKILL)
	first.wait(t, 10*time.Second)

	maps.Copy(inputs, p.produce(t, events[1000:]))
	restarted := time.Now()
	second := p.startProcess(t, "restart-a", "--session-timeout", sessionTimeout.String())
	p.awaitCommitted(t, int64(len(inputs)), sessionTimeout+30*time.Second)
	recovery := time.Since(restarted)
	t.Logf("restart recovery: %s from the new process's start to every input committed (session timeout %s)", recovery.Round(10*time.Millisecond), sessionTimeout)
	if recovery >= sessionTimeout/2 {
		t.Errorf("the restarted process took %s to process the input: it waited for the group to time the dead member out", recovery.Round(time.Second))
	}
	p.checkExactlyOnce(t, inputs, time.Minute)
	second.signal(t, syscall.SIGTERM)
	if code := second.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if out := second.out.String(); !strings.Contains(out, "left the group") {
		t.Errorf("no 'left the group' in the log of a graceful stop:\n%s", tail(out, 20))
	}
}

// TestProcessorSharedTransactionalID runs two live processes with one
// transactional id, a misconfiguration: each start or rebuild fences the
// other, so both must say so loudly (an Error naming the id, and
// event_processor_fenced_total), and exactly-once must hold throughout;
// once one stops, the other finishes the input.
func TestProcessorSharedTransactionalID(t *testing.T) {
	p := newPipeline(t, broker, 3, nil)
	live := p.startLiveReader(t, p.output, p.errored)
	binary(t, "event-processor")
	events := examples.Mixed(4000, 10)
	inputs := p.produce(t, events[:500])
	feed := p.feed(t, events[500:], 100, 100*time.Millisecond)

	httpA, httpB := freeAddr(t), freeAddr(t)
	a := p.startProcess(t, "shared-a", "--http-addr", httpA)
	p.awaitCommitted(t, 500, time.Minute)
	b := p.startProcess(t, "shared-a", "--http-addr", httpB)
	deadline := time.Now().Add(45 * time.Second)
	for !strings.Contains(a.out.String()+b.out.String(), `msg="fenced:`) {
		if time.Now().After(deadline) {
			t.Fatalf("two live processes with one transactional id ran for 45 s and neither logged that it was fenced")
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, ma := get(t, "http://"+httpA+"/metrics")
	_, mb := get(t, "http://"+httpB+"/metrics")
	if !regexp.MustCompile(`(?m)^event_processor_fenced_total [1-9]`).MatchString(ma + mb) {
		t.Errorf("neither process counts the fencing in event_processor_fenced_total:\n%s\n%s", grepLines(ma, "fenced"), grepLines(mb, "fenced"))
	}
	b.signal(t, syscall.SIGTERM)
	b.wait(t, 30*time.Second)
	maps.Copy(inputs, feed.stop(t))
	p.checkExactlyOnce(t, inputs, 3*time.Minute)
	a.signal(t, syscall.SIGTERM)
	a.wait(t, 30*time.Second)
	checkLive(t, live, len(inputs))
}

// TestProcessorZombieFenced freezes one of two instances (SIGSTOP) with its
// transaction open, long enough for the group to move its partitions and
// the broker to time its transaction out, then lets it run again (SIGCONT):
// the zombie's transaction must not commit, and every input has exactly one
// result.
func TestProcessorZombieFenced(t *testing.T) {
	p := newPipeline(t, broker, 4, nil)
	live := p.startLiveReader(t, p.output, p.errored)
	binary(t, "event-processor")
	events := examples.Mixed(4000, 7)
	inputs := p.produce(t, events[:1000])
	feed := p.feed(t, events[1000:], 100, 50*time.Millisecond)

	zombie := p.startProcess(t, "zombie-a", "--txn-timeout", "5s")
	other := p.startProcess(t, "zombie-b", "--txn-timeout", "5s")
	p.awaitCommitted(t, 1500, time.Minute)
	zombie.signal(t, syscall.SIGSTOP)
	// Longer than the 6s session timeout and the 5s transaction timeout:
	// the other instance takes over the partitions meanwhile.
	time.Sleep(12 * time.Second)
	frozenAt := len(zombie.out.String())
	zombie.signal(t, syscall.SIGCONT)

	p.awaitCommitted(t, p.committed(t)+500, time.Minute) // both are processing again
	maps.Copy(inputs, feed.stop(t))
	p.checkExactlyOnce(t, inputs, 2*time.Minute)
	for _, pr := range []*proc{zombie, other} {
		pr.signal(t, syscall.SIGTERM)
		if code := pr.wait(t, 20*time.Second); code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0", code)
		}
	}
	checkLive(t, live, len(inputs))
	// Woken, the zombie must have found out it was no longer a member:
	// frozen in a transaction, its End failed (timed out, fenced) or
	// aborted; frozen between transactions, it lost its partitions.
	woke := zombie.out.String()[frozenAt:]
	t.Logf("the zombie after it woke:\n%s", tail(woke, 12))
	if !strings.Contains(woke, "transaction session failed") && !strings.Contains(woke, "transaction aborted by a rebalance") &&
		!strings.Contains(woke, "partitions lost") {
		t.Errorf("the zombie logged no failed or aborted transaction and no lost partitions after it woke:\n%s", tail(woke, 30))
	}
}

// checkLive waits for the live read_committed reader to see every input's
// result and checks it never saw one twice.
func checkLive(t *testing.T, live *liveReader, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		live.mu.Lock()
		n := len(live.seen)
		live.mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	seen, dups := live.finish()
	if dups != 0 {
		t.Errorf("live read_committed reader saw %d records twice", dups)
	}
	if seen != want {
		t.Errorf("live read_committed reader saw results of %d inputs, want %d", seen, want)
	}
}
