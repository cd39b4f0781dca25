package ktool

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func topicsListCommand() *command {
	var internal bool
	return &command{
		name:     "topics list",
		synopsis: "ktool topics list [flags]",
		about:    "Lists topics with their partition count and replication factor, sorted by name.",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&internal, "internal", false, "also list internal topics (__consumer_offsets, __transaction_state)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("topics list", "topics list takes no arguments, got %q", args)
			}
			return topicsList(ctx, e, internal)
		},
	}
}

func topicsList(ctx context.Context, e *env, internal bool) error {
	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	rctx, cancel := request(ctx)
	defer cancel()
	tds, err := adm.ListTopicsWithInternal(rctx)
	if err != nil {
		return fmt.Errorf("listing topics: %w", e.explain(ctx, err))
	}
	if !internal {
		tds.FilterInternal()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION")
	for _, name := range tds.Names() {
		td := tds[name]
		if td.Err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t(%v)\n", name, td.Err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\n", name, len(td.Partitions), td.Partitions.NumReplicas())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(tds) == 0 {
		fmt.Fprintln(e.stderr, "no topics; create one with `ktool topics create TOPIC`")
	}
	return nil
}

type topicsCreateOptions struct {
	partitions        int // -1: the broker's default
	replicationFactor int // -1: the broker's default
	partitionsFlag    *intFlag
	replicationFlag   *intFlag
	configs           keyValueFlag
	ifNotExists       bool
}

// The most partitions and replicas Kafka's CreateTopics request can carry
// (an int32 and an int16).
const (
	maxPartitions        = 1<<31 - 1
	maxReplicationFactor = 1<<15 - 1
)

func topicsCreateCommand() *command {
	o := &topicsCreateOptions{}
	return &command{
		name:     "topics create",
		synopsis: "ktool topics create TOPIC... [flags]",
		about: `Creates each TOPIC. Without --partitions or --replication-factor the broker's
defaults (num.partitions, default.replication.factor) apply.`,
		flags: func(fs *flag.FlagSet) {
			o.partitionsFlag = intVar(fs, &o.partitions, "partitions", -1, fmt.Sprintf("1 to %d", maxPartitions),
				"number of `partitions` (default: the broker's num.partitions)")
			o.replicationFlag = intVar(fs, &o.replicationFactor, "replication-factor", -1, fmt.Sprintf("1 to %d", maxReplicationFactor),
				"`replicas` per partition (default: the broker's default.replication.factor)")
			fs.Var(&o.configs, "config", "a topic config `KEY=VALUE`, e.g. retention.ms=86400000; repeatable")
			fs.BoolVar(&o.ifNotExists, "if-not-exists", false, "succeed if a topic already exists")
		},
		run: func(ctx context.Context, e *env, args []string) error { return topicsCreate(ctx, e, o, args) },
	}
}

func topicsCreate(ctx context.Context, e *env, o *topicsCreateOptions, args []string) error {
	const cmd = "topics create"
	switch {
	case len(args) == 0:
		return usagef(cmd, "missing TOPIC")
	case slices.Contains(args, ""):
		return usagef(cmd, "a TOPIC is empty")
	case o.partitionsFlag.set && (o.partitions < 1 || o.partitions > maxPartitions):
		// -1 means "the broker's default" to Kafka, which leaving the flag out already says.
		return usagef(cmd, "--partitions must be from 1 to %d (leave it out for the broker's num.partitions), got %d",
			maxPartitions, o.partitions)
	case o.replicationFlag.set && (o.replicationFactor < 1 || o.replicationFactor > maxReplicationFactor):
		return usagef(cmd, "--replication-factor must be from 1 to %d (leave it out for the broker's default.replication.factor), got %d",
			maxReplicationFactor, o.replicationFactor)
	}
	for i, topic := range args {
		if slices.Contains(args[:i], topic) {
			return usagef(cmd, "topic %s is named twice; name each topic once", topic)
		}
	}
	var configs map[string]*string
	if len(o.configs.pairs) > 0 {
		configs = make(map[string]*string)
		for _, kv := range o.configs.pairs {
			configs[kv[0]] = kadm.StringPtr(kv[1])
		}
	}

	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	rctx, cancel := request(ctx)
	defer cancel()
	resps, err := adm.CreateTopics(rctx, int32(o.partitions), int16(o.replicationFactor), configs, args...)
	if err != nil {
		return fmt.Errorf("creating topics: %w", e.explain(ctx, err))
	}
	var errs []error
	for _, topic := range args {
		r, ok := resps[topic]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("topic %s: missing from the broker's answer", topic))
		case errors.Is(r.Err, kerr.TopicAlreadyExists) && o.ifNotExists:
			fmt.Fprintf(e.stdout, "topic %s already exists\n", topic)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			errs = append(errs, fmt.Errorf("topic %s already exists (--if-not-exists accepts that)", topic))
		case r.Err != nil:
			msg := r.Err.Error()
			if r.ErrMessage != "" {
				msg += ": " + r.ErrMessage
			}
			errs = append(errs, fmt.Errorf("creating topic %s: %s", topic, msg))
		default:
			fmt.Fprintf(e.stdout, "created topic %s: %s, replication factor %d\n",
				topic, count(int(r.NumPartitions), "partition"), r.ReplicationFactor)
		}
	}
	return errors.Join(errs...)
}

func topicsDescribeCommand() *command {
	var all bool
	return &command{
		name:     "topics describe",
		synopsis: "ktool topics describe TOPIC... [flags]",
		about: `Shows each TOPIC's partitions (leader, replicas, in-sync replicas, start and
end offsets), its replication factor, and the configs set on it (--all-configs
for every config, with where its value comes from).`,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all-configs", false, "show every config, including broker and built-in defaults")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			switch {
			case len(args) == 0:
				return usagef("topics describe", "missing TOPIC")
			case slices.Contains(args, ""):
				return usagef("topics describe", "a TOPIC is empty")
			}
			return topicsDescribe(ctx, e, args, all)
		},
	}
}

func topicsDescribe(ctx context.Context, e *env, topics []string, all bool) error {
	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	for i, topic := range topics {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		if err := describeTopic(ctx, e, adm, topic, all); err != nil {
			return err
		}
	}
	return nil
}

func describeTopic(ctx context.Context, e *env, adm *kadm.Client, topic string, all bool) error {
	td, err := e.lookupTopic(ctx, adm, topic)
	if err != nil {
		return err
	}
	rctx, cancel := request(ctx)
	defer cancel()
	starts, err := adm.ListStartOffsets(rctx, topic)
	if err != nil {
		return fmt.Errorf("listing start offsets of %s: %w", topic, e.explain(ctx, err))
	}
	ends, err := adm.ListEndOffsets(rctx, topic)
	if err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", topic, e.explain(ctx, err))
	}
	rcs, err := adm.DescribeTopicConfigs(rctx, topic)
	if err != nil {
		return fmt.Errorf("describing configs of %s: %w", topic, e.explain(ctx, err))
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("describing configs of %s: %w", topic, err)
	}

	w := e.stdout
	fmt.Fprintf(w, "topic:              %s\n", topic)
	fmt.Fprintf(w, "id:                 %s\n", base64.RawURLEncoding.EncodeToString(td.ID[:])) // as Kafka prints it
	fmt.Fprintf(w, "partitions:         %d\n", len(td.Partitions))
	fmt.Fprintf(w, "replication factor: %d\n", td.Partitions.NumReplicas())
	if td.IsInternal {
		fmt.Fprintf(w, "internal:           true\n")
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tREPLICAS\tISR\tSTART\tEND")
	for _, p := range td.Partitions.Sorted() {
		leader := fmt.Sprint(p.Leader)
		if p.Leader < 0 {
			leader = "none"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s", p.Partition, leader, ints(p.Replicas), ints(p.ISR),
			offsetCell(starts, topic, p.Partition), offsetCell(ends, topic, p.Partition))
		if len(p.OfflineReplicas) > 0 {
			fmt.Fprintf(tw, "\toffline: %s", ints(p.OfflineReplicas))
		}
		if p.Err != nil {
			fmt.Fprintf(tw, "\t(%v)", p.Err)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var shown []kadm.Config
	for _, c := range rc.Configs {
		if all || c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			shown = append(shown, c)
		}
	}
	slices.SortFunc(shown, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	fmt.Fprintln(w)
	switch {
	case len(shown) == 0:
		fmt.Fprintln(w, "configs: none set on the topic (--all-configs shows the defaults)")
	case all:
		fmt.Fprintln(w, "configs (all):")
	default:
		fmt.Fprintln(w, "configs (set on the topic; --all-configs shows every config):")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range shown {
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		if all {
			fmt.Fprintf(tw, "  %s=%s\t%s\n", c.Key, v, configSource(c.Source))
		} else {
			fmt.Fprintf(tw, "  %s=%s\n", c.Key, v)
		}
	}
	return tw.Flush()
}

func configSource(s kmsg.ConfigSource) string {
	switch s {
	case kmsg.ConfigSourceDynamicTopicConfig:
		return "topic"
	case kmsg.ConfigSourceDynamicBrokerConfig:
		return "broker (dynamic)"
	case kmsg.ConfigSourceDynamicDefaultBrokerConfig:
		return "cluster default (dynamic)"
	case kmsg.ConfigSourceStaticBrokerConfig:
		return "broker (server.properties)"
	case kmsg.ConfigSourceDefaultConfig:
		return "built-in default"
	default:
		return strings.ToLower(s.String())
	}
}

func offsetCell(l kadm.ListedOffsets, topic string, p int32) string {
	o, ok := l.Lookup(topic, p)
	switch {
	case !ok:
		return "?"
	case o.Err != nil:
		return "(" + o.Err.Error() + ")"
	default:
		return fmt.Sprint(o.Offset)
	}
}

func ints(xs []int32) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}
