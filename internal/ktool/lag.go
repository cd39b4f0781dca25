package ktool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/event-processor/event-processor/processor"
	"github.com/twmb/franz-go/pkg/kerr"
)

// MissingGroupError is returned by lag for a group the broker does not know.
type MissingGroupError struct{ Group string }

func (e *MissingGroupError) Error() string {
	return fmt.Sprintf("consumer group %s does not exist: it has no members and no committed offsets "+
		"(check the name; the processor's default group is flink-event-processor)", e.Group)
}

// hinted is an error with what to change appended (processor.Hint).
type hinted struct{ error }

func (h hinted) Error() string { return h.error.Error() + "; " + processor.Hint(h.error) }
func (h hinted) Unwrap() error { return h.error }

// withHint adds processor.Hint's advice to err where it has some.
func withHint(err error) error {
	if processor.Hint(err) == "" {
		return err
	}
	return hinted{err}
}

func lagCommand() *command {
	return &command{
		name:     "lag",
		synopsis: "ktool lag GROUP [flags]",
		about: `Shows, for every partition the consumer group has committed an offset on or is
assigned, the committed offset, the end offset (the high watermark), the lag
between them, and the member that holds the partition; then the total lag.
The end offset counts transaction markers, so a group that has read
everything written transactionally can show a small lag.`,
		run: func(ctx context.Context, e *env, args []string) error {
			switch {
			case len(args) == 0:
				return usagef("lag", "missing GROUP")
			case len(args) > 1:
				return usagef("lag", "lag shows one group; got %d arguments %q", len(args), args)
			case args[0] == "":
				return usagef("lag", "GROUP is empty")
			}
			return lag(ctx, e, args[0])
		},
	}
}

func lag(ctx context.Context, e *env, group string) error {
	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	rctx, cancel := request(ctx)
	defer cancel()
	lags, err := adm.Lag(rctx, group)
	if err != nil {
		return withHint(fmt.Errorf("computing the lag of group %s: %w", group, e.explain(ctx, err)))
	}
	l, ok := lags[group]
	if !ok {
		return fmt.Errorf("computing the lag of group %s: missing from the broker's answer", group)
	}
	if errors.Is(l.DescribeErr, kerr.GroupIDNotFound) || (l.Error() == nil && l.State == "Dead") {
		return &MissingGroupError{Group: group}
	}
	if err := l.Error(); err != nil {
		return withHint(fmt.Errorf("computing the lag of group %s: %w", group, err))
	}

	w := e.stdout
	fmt.Fprintf(w, "group %s: state %s, %s\n\n", group, l.State, count(len(l.Members), "member"))
	rows := l.Lag.Sorted()
	if len(rows) == 0 {
		fmt.Fprintln(w, "no committed offsets and no assigned partitions")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\tMEMBER")
	for _, r := range rows {
		committed := "-"
		if r.Commit.At >= 0 {
			committed = fmt.Sprint(r.Commit.At)
		}
		end := "?"
		if r.End.Err == nil {
			end = fmt.Sprint(r.End.Offset)
		}
		lagCell := fmt.Sprint(r.Lag)
		if r.Err != nil {
			lagCell = "(" + r.Err.Error() + ")"
		}
		member := "-"
		if r.Member != nil {
			member = strings.TrimSpace(r.Member.ClientID + " " + r.Member.ClientHost)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Topic, r.Partition, committed, end, lagCell, member)
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t\t%d\n", l.Lag.Total())
	return tw.Flush()
}
