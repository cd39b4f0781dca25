package bench

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/event-processor/event-processor/bench/internal/report"
)

// A contender is one implementation of the job, run as an OS process of its
// own so that the OS can say what it costs.
type contender struct {
	name string
	// guarantee is what its results are checked for: "exactly-once",
	// "at-least-once", or "copy" (raw bytes, counted only).
	guarantee string
	// ownEncoding marks a peer that does the job with its own JSON
	// encoder (Kafka Streams): checked for exactly-once, routing and
	// order, not for byte equality with this contract.
	ownEncoding bool
	// command is the process that runs it against p.
	command func(bins binaries, p *pipeline) *exec.Cmd
}

// binaries are the Go contenders' executables, built once per benchmark
// process.
type binaries struct{ processor, pipe string }

var (
	binOnce sync.Once
	bins    binaries
	binErr  error
)

var flagProcessorBin = flag.String("bench.processor-bin", "", "event-processor binary to run (default: built from this tree)")

// buildBinaries builds cmd/event-processor (as `make build` does, unless
// -bench.processor-bin names one) and bench/cmd/pipe into a temporary
// directory.
func buildBinaries() (binaries, error) {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bench-bin-")
		if err != nil {
			binErr = err
			return
		}
		bins = binaries{processor: filepath.Join(dir, "event-processor"), pipe: filepath.Join(dir, "pipe")}
		build := map[string]string{bins.processor: "../cmd/event-processor", bins.pipe: "./cmd/pipe"}
		if *flagProcessorBin != "" {
			delete(build, bins.processor)
			bins.processor = *flagProcessorBin
		}
		for out, pkg := range build {
			if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
				binErr = fmt.Errorf("building %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	return bins, binErr
}

var (
	epContender = contender{
		name:      report.EventProcessor,
		guarantee: "exactly-once",
		command: func(bins binaries, p *pipeline) *exec.Cmd {
			cfg := p.config()
			// The defaults, but for the addresses: the broker's, and the
			// HTTP endpoints on loopback rather than every interface.
			return exec.Command(bins.processor,
				"--kafka-bootstrap-servers", p.addr,
				"--input-topic", cfg.InputTopic, "--output-topic", cfg.OutputTopic, "--error-topic", cfg.ErrorTopic,
				"--consumer-group", cfg.Group, "--transactional-id", cfg.TransactionalID,
				"--http-addr", "127.0.0.1:0")
		},
	}
	aloContender = contender{
		name:      report.AtLeastOnce,
		guarantee: "at-least-once",
		command: func(bins binaries, p *pipeline) *exec.Cmd {
			return exec.Command(bins.pipe, "--mode", "at-least-once", "--brokers", p.addr,
				"--input", p.input, "--output", p.output, "--errors", p.errored, "--group", p.group)
		},
	}
	rawContender = contender{
		name:      report.RawCopy,
		guarantee: "copy",
		command: func(bins binaries, p *pipeline) *exec.Cmd {
			return exec.Command(bins.pipe, "--mode", "raw-copy", "--brokers", p.addr,
				"--input", p.input, "--output", p.output, "--group", p.group)
		},
	}
)

// streamsContender is the job on Kafka Streams with exactly_once_v2 in a
// JVM of its own (-Xms256m -Xmx512m): with the jar's defaults, or with its
// --tuned settings.
func streamsContender(tuned bool) contender {
	name := report.KafkaStreams
	if tuned {
		name = report.KafkaStreamsTuned
	}
	return contender{
		name:        name,
		guarantee:   "exactly-once",
		ownEncoding: true,
		command: func(_ binaries, p *pipeline) *exec.Cmd {
			args := []string{"-Xms256m", "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
				"-jar", *flagStreamsJar, "--bootstrap", p.addr,
				"--input", p.input, "--output", p.output, "--error", p.errored, "--application-id", p.group}
			if tuned {
				args = append(args, "--tuned")
			}
			return exec.Command("java", args...)
		},
	}
}

// streamsTunedAvailable says why the tuned Kafka Streams contender cannot
// run, or nil: the jar must exist and know --tuned (its main class names
// the option).
func streamsTunedAvailable() error {
	if err := streamsAvailable(); err != nil {
		return err
	}
	zr, err := zip.OpenReader(*flagStreamsJar)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *flagStreamsJar, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != "eventprocessor/bench/StreamsBench.class" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("tuned")) {
			return nil
		}
		return fmt.Errorf("%s has no --tuned option: rebuild it from sources that have one (`cd bench/streams && mvn -q -B package`)", *flagStreamsJar)
	}
	return fmt.Errorf("%s has no StreamsBench class", *flagStreamsJar)
}

// proc is a running contender process.
type proc struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	peak func() float64 // peak RSS in MB, once the process is gone
	done chan error
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, out: out, peak: watchPeakRSS(cmd.Process.Pid), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// cpu is the process's CPU time so far, user and system, every thread.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name in parentheses may hold spaces; the fields after
	// it are fixed: utime and stime are the 14th and 15th of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// exited reports whether the process has ended, and how.
func (p *proc) exited() (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop sends SIGTERM and waits up to 30 s for a clean exit (0, or 143 for
// a JVM that ran its shutdown hooks), then kills it.
func (p *proc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 128+int(syscall.SIGTERM) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("%s exited: %w; its output:\n%s", filepath.Base(p.cmd.Path), err, p.out.String())
		}
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM; its output:\n%s", filepath.Base(p.cmd.Path), p.out.String())
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
