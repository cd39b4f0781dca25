package ktool

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeOptions are the flags of ktool consume.
type consumeOptions struct {
	offset    string
	isolation string
	max       int
	timeout   time.Duration
	group     string
	format    string
}

func consumeCommand() *command {
	o := &consumeOptions{}
	return &command{
		name:     "consume",
		synopsis: "ktool consume TOPIC [flags]",
		about: `Reads records from every partition of TOPIC and prints them, until --max
records have been printed, or nothing new has arrived for --timeout, or Ctrl-C.
A summary goes to stderr.

--format pretty prints a block per record: topic, partition, offset,
timestamp, key, headers, and the value, indented if it is JSON.
--format json prints one JSON object per line:
  {"topic","partition","offset","timestamp","key","headers":{...},"value":...}
where value is the JSON value itself when the record is valid JSON, else a
string (and null for a null value).
--format value prints only each value, one per line.

With --group, ktool joins the consumer group, starts where the group last
committed (--offset applies only to partitions without a commit), and
commits the offsets of the records it printed.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.offset, "offset", "beginning", "`where` to start in each partition: beginning, end, N (that offset) or -N (the last N records)")
			fs.StringVar(&o.isolation, "isolation", "read_committed", "isolation `level`: read_committed (only committed transactions) or read_uncommitted (also open and aborted ones)")
			fs.IntVar(&o.max, "max", 0, "stop after `N` records (0: no limit)")
			fs.DurationVar(&o.timeout, "timeout", defaultIdleTimeout, "stop after this long without new records (0: follow until Ctrl-C)")
			fs.StringVar(&o.group, "group", "", "consume as this consumer `group` and commit what was printed")
			fs.StringVar(&o.format, "format", "pretty", "output `format`: pretty, json (one object per line) or value (values only)")
		},
		run: func(ctx context.Context, e *env, args []string) error { return consume(ctx, e, o, args) },
	}
}

// consumeConfig is consumeOptions checked and converted.
type consumeConfig struct {
	topic     string
	start     kgo.Offset
	isolation kgo.IsolationLevel
	format    recordFormatter
}

func (o *consumeOptions) config(args []string) (consumeConfig, error) {
	const cmd = "consume"
	var c consumeConfig
	switch {
	case len(args) == 0:
		return c, usagef(cmd, "missing TOPIC")
	case len(args) > 1:
		return c, usagef(cmd, "consume reads one topic; got %d arguments %q", len(args), args)
	case args[0] == "":
		return c, usagef(cmd, "TOPIC is empty")
	}
	c.topic = args[0]
	var err error
	if c.start, err = parseOffset(o.offset); err != nil {
		return c, usagef(cmd, "%v", err)
	}
	switch o.isolation {
	case "read_committed":
		c.isolation = kgo.ReadCommitted()
	case "read_uncommitted":
		c.isolation = kgo.ReadUncommitted()
	default:
		return c, usagef(cmd, "--isolation must be read_committed or read_uncommitted, got %q", o.isolation)
	}
	if o.max < 0 {
		return c, usagef(cmd, "--max must be 0 (no limit) or more, got %d", o.max)
	}
	if o.timeout < 0 {
		return c, usagef(cmd, "--timeout must be 0 (follow until Ctrl-C) or more, got %s", o.timeout)
	}
	if c.format = formatters[o.format]; c.format == nil {
		return c, usagef(cmd, "--format must be pretty, json or value, got %q", o.format)
	}
	return c, nil
}

// parseOffset reads --offset.
func parseOffset(s string) (kgo.Offset, error) {
	switch s {
	case "beginning", "start", "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "end", "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return kgo.Offset{}, fmt.Errorf("--offset must be beginning, end, N (an offset, 0 or more) "+
			"or -N (the last N records of each partition), got %q", s)
	}
	if n < 0 {
		return kgo.NewOffset().AtEnd().Relative(n), nil
	}
	return kgo.NewOffset().At(n), nil
}

func consume(ctx context.Context, e *env, o *consumeOptions, args []string) error {
	c, err := o.config(args)
	if err != nil {
		return err
	}

	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	_, err = e.lookupTopic(ctx, adm, c.topic)
	adm.Close()
	if err != nil {
		return err
	}

	var assigned atomic.Bool
	opts := []kgo.Opt{
		kgo.ConsumeTopics(c.topic),
		kgo.ConsumeStartOffset(c.start),
		kgo.FetchIsolationLevel(c.isolation),
	}
	if o.group != "" {
		opts = append(opts,
			kgo.ConsumerGroup(o.group),
			kgo.AutoCommitMarks(), // commit only what was printed
			kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { assigned.Store(true) }),
		)
	} else {
		assigned.Store(true)
	}
	cl, err := e.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	n, why, err := pollLoop(ctx, cl, c, o, e, &assigned)
	if o.group != "" {
		// A fresh context: the commit must happen even after Ctrl-C.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		cerr := cl.CommitMarkedOffsets(cctx)
		cancel()
		if cerr != nil && err == nil {
			err = fmt.Errorf("committing the offsets of group %s: %w", o.group, cerr)
		}
	}
	fmt.Fprintf(e.stderr, "%s from %s (%s)\n", count(n, "record"), c.topic, why)
	return err
}

// pollLoop prints records until a stop condition and returns how many it
// printed and why it stopped.
func pollLoop(ctx context.Context, cl *kgo.Client, c consumeConfig, o *consumeOptions, e *env, assigned *atomic.Bool) (int, string, error) {
	var (
		n         int
		wasJoined = assigned.Load()
		lastNew   = time.Now() // when a record last arrived, or the group assignment
	)
	for {
		if o.max > 0 && n >= o.max {
			return n, fmt.Sprintf("reached --max %d", o.max), nil
		}
		if ctx.Err() != nil {
			return n, "interrupted", nil
		}
		if !wasJoined && assigned.Load() {
			wasJoined, lastNew = true, time.Now()
		}
		if o.timeout > 0 {
			idleFor := o.timeout
			if !wasJoined {
				idleFor += groupJoinGrace
			}
			if time.Since(lastNew) >= idleFor {
				return n, fmt.Sprintf("no new records for %s", o.timeout), nil
			}
		}

		// Poll in short slices so the stop conditions are checked often.
		pctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		limit := -1
		if o.max > 0 {
			limit = o.max - n
		}
		fetches := cl.PollRecords(pctx, limit)
		cancel()
		if fetches.IsClientClosed() {
			return n, "client closed", nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			return n, "failed", fmt.Errorf("reading %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil {
				return
			}
			if werr = c.format(e.stdout, r); werr == nil {
				n++
				lastNew = time.Now()
				if o.group != "" {
					cl.MarkCommitRecords(r)
				}
			}
		})
		if werr != nil {
			return n, "failed", fmt.Errorf("writing output: %w", werr)
		}
	}
}
