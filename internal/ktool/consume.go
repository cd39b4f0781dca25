package ktool

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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
			intVar(fs, &o.max, "max", 0, "0 (no limit) or more", "stop after `N` records (0: no limit)")
			durationVar(fs, &o.timeout, "timeout", defaultIdleTimeout, "stop after this long without new records (0: follow until Ctrl-C)")
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
	exact     bool  // --offset N: start is that offset, clamped to each partition's log
	last      int64 // --offset -N: N, the number of records to show from each partition's end
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
	if n, err := strconv.ParseInt(o.offset, 10, 64); err == nil {
		c.exact = n >= 0
		if n < 0 {
			c.last = -n
		}
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
	var lastN map[int32]int64
	if err == nil && c.last > 0 {
		lastN, err = e.lastNOffsets(ctx, adm, c)
	}
	adm.Close()
	if err != nil {
		return err
	}

	var (
		assigned atomic.Bool
		groupErr atomic.Pointer[error] // the last error that broke the group session
	)
	opts := []kgo.Opt{
		kgo.FetchIsolationLevel(c.isolation),
		// A fetch waits at most this long for new records, so a partition
		// assigned while a fetch is in flight is read well within --timeout.
		kgo.FetchMaxWait(fetchMaxWait),
	}
	if c.exact {
		// An exact offset out of the log's range resets to this offset
		// bounded within the log: past the end to the end, below the start
		// to the start (the default reset would rewind to the start).
		opts = append(opts, kgo.ConsumeResetOffset(c.start))
	}
	if o.group != "" {
		opts = append(opts,
			kgo.ConsumeTopics(c.topic),
			kgo.ConsumeStartOffset(c.start),
			kgo.ConsumerGroup(o.group),
			kgo.AutoCommitMarks(), // commit only what was printed
			kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { assigned.Store(true) }),
			kgo.WithHooks(groupErrorHook(func(err error) { groupErr.Store(&err) })),
			// Stop retrying a failing join after a few seconds rather than
			// kgo's 45s (its session timeout): the group session then
			// fails, says why (the hook above) and starts again, and
			// closing the client does not wait out a long retry.
			kgo.RetryTimeoutFn(func(key int16) time.Duration {
				switch key {
				case int16(kmsg.FindCoordinator), int16(kmsg.JoinGroup), int16(kmsg.SyncGroup):
					return groupRetryTimeout
				case int16(kmsg.Heartbeat):
					return kgoSessionTimeout
				}
				return requestTimeout
			}),
		)
		if lastN != nil {
			// Partitions without a commit start at the last N records.
			opts = append(opts, kgo.AdjustFetchOffsetsFn(func(_ context.Context, m map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
				for p, off := range m[c.topic] {
					if at, ok := lastN[p]; ok && off.EpochOffset().Offset < 0 {
						m[c.topic][p] = kgo.NewOffset().At(at)
					}
				}
				return m, nil
			}))
		}
	} else {
		assigned.Store(true)
		if lastN != nil {
			parts := make(map[int32]kgo.Offset, len(lastN))
			for p, at := range lastN {
				parts[p] = kgo.NewOffset().At(at)
			}
			opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: parts}))
		} else {
			opts = append(opts, kgo.ConsumeTopics(c.topic), kgo.ConsumeStartOffset(c.start))
		}
	}
	cl, err := e.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	n, why, err := pollLoop(ctx, cl, c, o, e, &assigned)
	if o.group != "" && !assigned.Load() && err == nil && why == "no group" {
		err = e.joinError(ctx, o.group, groupErr.Load())
	}
	if o.group != "" && assigned.Load() {
		// A fresh context: the commit must happen even after Ctrl-C.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		cerr := cl.CommitMarkedOffsets(cctx)
		cancel()
		if cerr != nil && err == nil {
			err = fmt.Errorf("committing the offsets of group %s: %w", o.group, cerr)
		}
	}
	if why != "no group" {
		fmt.Fprintf(e.stderr, "%s from %s (%s)\n", count(n, "record"), c.topic, why)
	}
	return err
}

// fetchMaxWait bounds how long the broker holds a fetch waiting for new
// records (kgo's default is 5s, as long as the default --timeout): a
// partition added while a fetch is in flight is fetched only after it
// returns.
const fetchMaxWait = 250 * time.Millisecond

// groupErrorHook is called with each error that breaks the group session.
type groupErrorHook func(error)

func (h groupErrorHook) OnGroupManageError(err error) { h(err) }

// GroupJoinError is returned by consume --group when the group did not
// assign partitions within the join timeout.
type GroupJoinError struct {
	Group   string
	Timeout time.Duration
	Err     error // why, as far as the broker said
}

func (e *GroupJoinError) Error() string {
	return fmt.Sprintf("could not join consumer group %s within %s: %v", e.Group, e.Timeout, e.Err)
}

func (e *GroupJoinError) Unwrap() error { return e.Err }

// joinError says why the group was not joined: the last error of the
// client's group session if there was one, else what the broker answers when
// asked for the group's coordinator.
func (e *env) joinError(ctx context.Context, group string, last *error) error {
	je := &GroupJoinError{Group: group, Timeout: groupJoinTimeout}
	if last != nil {
		je.Err = *last
	} else {
		cl, err := e.newClient(kgo.RetryTimeout(groupRetryTimeout))
		if err != nil {
			return err
		}
		adm := newAdmin(cl)
		defer adm.Close()
		rctx, cancel := context.WithTimeout(ctx, groupRetryTimeout)
		defer cancel()
		r := adm.FindGroupCoordinators(rctx, group)[group]
		switch {
		case r.Err == nil:
			je.Err = fmt.Errorf("its coordinator, broker %d at %s:%d, did not complete the join; "+
				"check the group's members with `ktool lag %s`", r.NodeID, r.Host, r.Port, group)
		case errors.Is(r.Err, context.DeadlineExceeded):
			je.Err = fmt.Errorf("finding its coordinator: no answer within %s", groupRetryTimeout)
		default:
			je.Err = fmt.Errorf("finding its coordinator: %w", r.Err)
		}
	}
	if errors.Is(je.Err, kerr.CoordinatorNotAvailable) || errors.Is(je.Err, kerr.CoordinatorLoadInProgress) {
		je.Err = fmt.Errorf("%w (the broker cannot host the group yet: check that its __consumer_offsets topic "+
			"can be created, i.e. offsets.topic.replication.factor is at most the number of brokers)", je.Err)
	}
	return je
}

// kgoSessionTimeout is kgo's default session timeout, which is also its
// default retry timeout for heartbeats.
const kgoSessionTimeout = 45 * time.Second

// groupRetryTimeout bounds the retries of one attempt to join a group, and
// asking for the group's coordinator after a failed join.
const groupRetryTimeout = 5 * time.Second

// pollLoop prints records until a stop condition and returns how many it
// printed and why it stopped.
func pollLoop(ctx context.Context, cl *kgo.Client, c consumeConfig, o *consumeOptions, e *env, assigned *atomic.Bool) (int, string, error) {
	var (
		n         int
		wasJoined = assigned.Load()
		started   = time.Now()
		lastNew   = started // when a record last arrived, or the group assignment
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
		if !wasJoined && time.Since(started) >= groupJoinTimeout {
			return n, "no group", nil
		}
		if wasJoined && o.timeout > 0 && time.Since(lastNew) >= o.timeout {
			return n, fmt.Sprintf("no new records for %s", o.timeout), nil
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
			if gs := (*kgo.ErrGroupSession)(nil); errors.As(fe.Err, &gs) {
				if !assigned.Load() {
					return n, "no group", &GroupJoinError{Group: o.group, Timeout: time.Since(started).Round(time.Millisecond), Err: gs.Err}
				}
				return n, "failed", fmt.Errorf("consumer group %s: %w", o.group, gs.Err)
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

// lastNOffsets returns, for each partition of c.topic, the offset from which
// its last c.last records start. Transaction markers take offsets too (and,
// under read_committed, so do the records of aborted transactions), so the
// end offset less N would show fewer than N records: instead the partition
// is read back from the end, a window at a time, each window lastNGrowth
// times the last, until N records are found or the log start is reached.
func (e *env) lastNOffsets(ctx context.Context, adm *kadm.Client, c consumeConfig) (map[int32]int64, error) {
	rctx, cancel := request(ctx)
	defer cancel()
	starts, err := adm.ListStartOffsets(rctx, c.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing start offsets of %s: %w", c.topic, e.explain(ctx, err))
	}
	list := adm.ListEndOffsets
	if c.isolation == kgo.ReadCommitted() {
		list = adm.ListCommittedOffsets // the last stable offset: records past it are not visible yet
	}
	ends, err := list(rctx, c.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", c.topic, e.explain(ctx, err))
	}

	type part struct {
		start, from int64   // from: where the records found so far begin
		found       []int64 // offsets of the records in [from, end), ascending
	}
	parts := map[int32]*part{}
	result := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(c.topic, o.Partition)
		result[o.Partition] = max(s.Offset, o.Offset-c.last)
		if o.Offset > s.Offset {
			parts[o.Partition] = &part{start: s.Offset, from: o.Offset}
		}
	})
	for window := c.last; len(parts) > 0; window *= lastNGrowth {
		ranges := map[int32][2]int64{}
		for p, pt := range parts {
			ranges[p] = [2]int64{max(pt.start, pt.from-window), pt.from}
		}
		got, err := e.readOffsets(ctx, c, ranges)
		if err != nil {
			return nil, err
		}
		for p, pt := range parts {
			pt.found = append(got[p], pt.found...)
			pt.from = ranges[p][0]
			switch n := int64(len(pt.found)); {
			case n >= c.last:
				result[p] = pt.found[n-c.last]
				delete(parts, p)
			case pt.from <= pt.start || window > lastNMaxWindow:
				result[p] = pt.from
				delete(parts, p)
			}
		}
	}
	return result, nil
}

// lastNGrowth is how much larger each window read back from the end is than
// the one before; lastNMaxWindow bounds the windows (and so the rounds), for
// a partition whose tail is almost all markers or aborted records.
const (
	lastNGrowth    = 4
	lastNMaxWindow = 1 << 30
)

// readOffsets reads each partition's offset range [from, to) and returns
// the offsets of the records in it that the isolation level shows.
func (e *env) readOffsets(ctx context.Context, c consumeConfig, ranges map[int32][2]int64) (map[int32][]int64, error) {
	offsets := map[int32]kgo.Offset{}
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r[0])
	}
	cl, err := e.newClient(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: offsets}),
		kgo.FetchIsolationLevel(c.isolation),
		kgo.KeepControlRecords(), // a marker at the range's end says the range is read
		kgo.FetchMaxWait(fetchMaxWait),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got := map[int32][]int64{}
	open := len(ranges)
	done := map[int32]bool{}
	deadline := time.Now().Add(requestTimeout)
	idleSince := time.Now()
	// A range whose last offsets are hidden (aborted records under
	// read_committed) never shows its last offset: it is read once nothing
	// new has come for readIdle.
	for open > 0 && time.Since(idleSince) < readIdle {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("reading the end of %s: not done within %s", c.topic, requestTimeout)
		}
		pctx, cancel := context.WithTimeout(ctx, fetchMaxWait)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				return nil, fmt.Errorf("reading the end of %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		fetches.EachRecord(func(r *kgo.Record) {
			idleSince = time.Now()
			rg, ok := ranges[r.Partition]
			if !ok || done[r.Partition] {
				return
			}
			if r.Offset < rg[1] && !r.Attrs.IsControl() {
				got[r.Partition] = append(got[r.Partition], r.Offset)
			}
			if r.Offset >= rg[1]-1 {
				done[r.Partition] = true
				open--
				cl.PauseFetchPartitions(map[string][]int32{c.topic: {r.Partition}})
			}
		})
	}
	return got, nil
}

// readIdle is how long readOffsets waits for more of a range before taking
// it as read.
const readIdle = time.Second
