package ktool

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/event-processor/event-processor/processor"
	"github.com/event-processor/event-processor/verify"
)

// defaultVerifyTimeout bounds a whole verification: waiting for the group
// and reading the topics.
const defaultVerifyTimeout = 5 * time.Minute

// verifyOptions are the flags of ktool verify.
type verifyOptions struct {
	fs       *flag.FlagSet
	cfg      processor.Config
	group    string
	from, to string
	format   string
	show     int
	timeout  time.Duration
}

// The processor's options that say what it makes of each input; ktool
// verify takes them with the same names, defaults and environment twins.
var verifyProcessorFlags = []string{"input-topic", "output-topic", "error-topic", "pipeline-name", "max-record-bytes"}

func verifyCommand() *command {
	o := &verifyOptions{cfg: processor.DefaultConfig()}
	return &command{
		name:     "verify",
		synopsis: "ktool verify [--input-topic T] [--output-topic T] [--error-topic T] [--group GROUP] [--from POS] [--to POS] [flags]",
		about: `Checks that every input record has exactly one result, as a read_committed
consumer sees them: it reads the input topic, then the output and error
topics to their ends, traces each result to its input by its provenance
headers (source.topic, source.partition, source.offset) and counts

  missing       an input with no result
  duplicated    a second or later result of one input
  orphaned      a result whose input does not exist
  mismatched    a result whose value (processing time aside), key or headers
                are not what the processor makes of its input
  misrouted     a valid input's result on the error topic, or the reverse
  out_of_order  results of one input partition out of input order

The topics, --pipeline-name and --max-record-bytes are the processor's
options, with the same defaults and environment twins; give the values the
processor runs with. --group waits (up to --timeout) until that consumer
group has committed every input in the range, so that results still in
flight are not counted missing. --from and --to bound the input range in
every partition, --to exclusive: an offset (0 or more) or a time
(RFC 3339, e.g. 2026-12-01T10:00:00Z: the first record at or after it).

Prints the counts and the first --show violations of each kind with their
coordinates (--format json: one JSON object). Exit status: 0 exactly once,
1 a violation (or the check could not be completed), 2 a usage error.
Memory is a few bytes per input offset in the range.`,
		flags: func(fs *flag.FlagSet) {
			o.fs = fs
			o.cfg.BindFlags(fs, verifyProcessorFlags...)
			fs.StringVar(&o.group, "group", "", "wait until this consumer `group` (the processor's) has committed every input in the range")
			fs.StringVar(&o.from, "from", "", "first input `position` in every partition: an offset or an RFC 3339 time (default the log start)")
			fs.StringVar(&o.to, "to", "", "input `position` to stop before in every partition: an offset or an RFC 3339 time (default the end offset now)")
			fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
			fs.IntVar(&o.show, "show", 5, "show the first `N` violations of each kind")
			fs.DurationVar(&o.timeout, "timeout", defaultVerifyTimeout, "give up if waiting for --group and reading the topics take longer than this `duration`")
		},
		run: func(ctx context.Context, e *env, args []string) error { return runVerify(ctx, e, o, args) },
	}
}

func (o *verifyOptions) config(args []string) (verify.Config, error) {
	const cmd = "verify"
	var vc verify.Config
	if len(args) > 0 {
		return vc, usagef(cmd, "verify takes no arguments (got %q); name the topics with --input-topic, --output-topic and --error-topic", args[0])
	}
	if err := o.cfg.ApplyEnv(o.fs, os.LookupEnv); err != nil {
		return vc, usagef(cmd, "%v", err)
	}
	names := map[string]string{"--input-topic": o.cfg.InputTopic, "--output-topic": o.cfg.OutputTopic, "--error-topic": o.cfg.ErrorTopic}
	for flagName, topic := range names {
		if topic == "" {
			return vc, usagef(cmd, "%s is empty", flagName)
		}
	}
	if o.cfg.InputTopic == o.cfg.OutputTopic || o.cfg.InputTopic == o.cfg.ErrorTopic || o.cfg.OutputTopic == o.cfg.ErrorTopic {
		return vc, usagef(cmd, "--input-topic, --output-topic and --error-topic must be three different topics, got %s, %s, %s",
			o.cfg.InputTopic, o.cfg.OutputTopic, o.cfg.ErrorTopic)
	}
	if n := o.cfg.MaxRecordBytes; n < processor.MinRecordBytes || n > processor.MaxRecordBytes {
		return vc, usagef(cmd, "--max-record-bytes must be between %d and %d, got %d", processor.MinRecordBytes, processor.MaxRecordBytes, n)
	}
	if _, err := o.cfg.Transformer(o.cfg.MaxRecordBytes); err != nil {
		return vc, usagef(cmd, "--pipeline-name: %v", err)
	}
	var err error
	if vc.Start, err = parsePosition("--from", o.from); err != nil {
		return vc, usagef(cmd, "%v", err)
	}
	if vc.End, err = parsePosition("--to", o.to); err != nil {
		return vc, usagef(cmd, "%v", err)
	}
	if s, e := vc.Start, vc.End; s != nil && e != nil {
		if s.Time.IsZero() && e.Time.IsZero() && s.Offset > e.Offset || !s.Time.IsZero() && !e.Time.IsZero() && s.Time.After(e.Time) {
			return vc, usagef(cmd, "--from %s is after --to %s: the range would be empty", o.from, o.to)
		}
	}
	switch {
	case o.format != "text" && o.format != "json":
		return vc, usagef(cmd, "--format must be text or json, got %q", o.format)
	case o.show < 0:
		return vc, usagef(cmd, "--show must be 0 or more, got %d", o.show)
	case o.timeout <= 0:
		return vc, usagef(cmd, "--timeout must be more than 0, got %s", o.timeout)
	}
	vc.Processor, vc.Group, vc.Examples = o.cfg, o.group, o.show
	if o.show == 0 {
		vc.Examples = -1
	}
	return vc, nil
}

// parsePosition reads --from or --to: "" (none), an offset, or a time.
func parsePosition(flagName, s string) (*verify.Position, error) {
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return nil, fmt.Errorf("%s must be an offset of 0 or more or an RFC 3339 time, got %d", flagName, n)
		}
		return &verify.Position{Offset: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%s must be an offset (0 or more) or an RFC 3339 time such as 2026-12-01T10:00:00Z, got %q", flagName, s)
	}
	return &verify.Position{Time: t}, nil
}

func runVerify(ctx context.Context, e *env, o *verifyOptions, args []string) error {
	vc, err := o.config(args)
	if err != nil {
		return err
	}
	cl, err := e.connect(ctx) // fails in --connect-timeout when no broker answers
	if err != nil {
		return err
	}
	cl.Close()
	vctx, cancel := context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("--timeout %s passed", o.timeout))
	defer cancel()
	report, err := verify.Run(vctx, e.clientOpts(), vc)
	if err != nil {
		return fmt.Errorf("verifying %s against %s and %s: %w", vc.Processor.InputTopic, vc.Processor.OutputTopic, vc.Processor.ErrorTopic, e.explain(ctx, err))
	}
	if o.format == "json" {
		err = report.WriteJSON(e.stdout)
	} else {
		err = report.WriteText(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if !report.OK() {
		return fmt.Errorf("%s (the report lists them)", report.Verdict())
	}
	return nil
}
