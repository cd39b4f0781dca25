package ktool

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceOptions are the flags of ktool produce.
type produceOptions struct {
	file    string
	key     *string // nil: no key
	headers keyValueFlag
	raw     bool
}

func produceCommand() *command {
	o := &produceOptions{}
	return &command{
		name: "produce",
		synopsis: "ktool produce TOPIC VALUE [flags]\n" +
			"ktool produce TOPIC - [flags]             (the value is read from stdin)\n" +
			"ktool produce TOPIC --file FILE [flags]",
		about: `Writes records to TOPIC and prints the partition and offset of each.

VALUE is written as given, byte for byte; with "-" the value is all of stdin,
less one trailing newline. With --file, a file that is one JSON array gives
one record per element, each written as the element's JSON text with
insignificant whitespace removed (a string element keeps its quotes); any
other file gives one record per line, written as it appears, skipping blank
lines. Every line must be valid JSON unless --raw is set. --file - reads
the file from stdin.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.file, "file", "", "write one record per JSON array element or per line of this `file` (- for stdin)")
			fs.Func("key", "the record `key` (default: no key); with --file, every record gets it", func(s string) error {
				o.key = &s
				return nil
			})
			fs.Var(&o.headers, "header", "add a record header `KEY=VALUE`; repeatable")
			fs.BoolVar(&o.raw, "raw", false, "with --file: send each line as plain text, without checking it is JSON")
		},
		run: func(ctx context.Context, e *env, args []string) error { return produce(ctx, e, o, args) },
	}
}

func produce(ctx context.Context, e *env, o *produceOptions, args []string) error {
	values, source, err := o.values(e, args)
	if err != nil {
		return err
	}
	topic := args[0]

	adm, err := e.admin(ctx)
	if err != nil {
		return err
	}
	_, err = e.lookupTopic(ctx, adm, topic)
	var limit int32
	if err == nil {
		limit, err = e.topicMaxMessageBytes(ctx, adm, topic)
	}
	adm.Close()
	if err != nil {
		return err
	}
	// The producer's batch limit follows the topic's, so the broker's limit is
	// the only one (kgo's own default is Kafka's default, 1000012 bytes).
	cl, err := e.newClient(kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(requestTimeout),
		kgo.ProducerBatchMaxBytes(limit))
	if err != nil {
		return err
	}
	defer cl.Close()

	var headers []kgo.RecordHeader
	for _, h := range o.headers.pairs {
		headers = append(headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
	}
	records := make([]*kgo.Record, len(values))
	for i, v := range values {
		r := &kgo.Record{Topic: topic, Value: v, Headers: headers}
		if o.key != nil {
			r.Key = []byte(*o.key)
		}
		records[i] = r
	}
	results := cl.ProduceSync(ctx, records...)

	failed := map[*kgo.Record]error{}
	for _, res := range results {
		if res.Err != nil {
			failed[res.Record] = res.Err
		}
	}
	var firstErr error
	for i, r := range records {
		prefix := fmt.Sprintf("record %d: ", i+1)
		if len(records) == 1 {
			prefix = topic + ": "
		}
		if err := failed[r]; err != nil {
			if errors.Is(err, kerr.MessageTooLarge) {
				err = &RecordTooLargeError{Topic: topic, Bytes: recordBytes(r), Limit: limit, Err: err}
				failed[r] = err
			}
			fmt.Fprintf(e.stdout, "%sfailed: %v\n", prefix, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%spartition %d, offset %d\n", prefix, r.Partition, r.Offset)
	}
	if firstErr != nil {
		return fmt.Errorf("writing to %s: %d of %d records failed, the first with: %w",
			topic, len(failed), len(records), e.explain(ctx, firstErr))
	}
	if len(records) > 1 {
		fmt.Fprintf(e.stdout, "wrote %d records from %s to %s\n", len(records), source, topic)
	}
	return nil
}

// values checks the positional arguments and returns the values to write
// and where they came from.
func (o *produceOptions) values(e *env, args []string) (values [][]byte, source string, err error) {
	const cmd = "produce"
	switch {
	case len(args) == 0:
		return nil, "", usagef(cmd, "missing TOPIC")
	case args[0] == "":
		return nil, "", usagef(cmd, "TOPIC is empty")
	case len(args) > 2:
		return nil, "", usagef(cmd, "too many arguments (%d); quote a VALUE that contains spaces", len(args))
	case o.file != "" && len(args) == 2:
		return nil, "", usagef(cmd, "give either VALUE or --file, not both")
	case o.file == "" && len(args) == 1:
		return nil, "", usagef(cmd, "missing VALUE: give a value, - to read it from stdin, or --file FILE")
	case o.raw && o.file == "":
		return nil, "", usagef(cmd, "--raw only applies to --file")
	}

	if o.file == "" {
		if args[1] != "-" {
			return [][]byte{[]byte(args[1])}, "the command line", nil
		}
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, "", fmt.Errorf("reading the value from stdin: %w", err)
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		return [][]byte{b}, "stdin", nil
	}

	var data []byte
	name := o.file
	if o.file == "-" {
		name = "stdin"
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(o.file)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("reading --file: %s does not exist", o.file)
		}
		return nil, "", fmt.Errorf("reading --file: %w", err)
	}
	values, err = parseRecords(name, data, o.raw)
	if err != nil {
		return nil, "", err
	}
	return values, name, nil
}

// RecordTooLargeError is a record larger than its topic accepts.
type RecordTooLargeError struct {
	Topic string
	Bytes int   // key, value and headers
	Limit int32 // the topic's max.message.bytes, which bounds a record batch
	Err   error
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("the record (%d bytes of key, value and headers, plus about %d bytes of framing) is larger than "+
		"topic %s's max.message.bytes, %d; that is the topic's limit (the broker's message.max.bytes for topics that set none): "+
		"raise it with `kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config max.message.bytes=N`, "+
		"or create the topic with `ktool topics create %s --config max.message.bytes=N` (%v)",
		e.Bytes, batchFraming, e.Topic, e.Limit, e.Topic, e.Topic, e.Err)
}

func (e *RecordTooLargeError) Unwrap() error { return e.Err }

// batchFraming is roughly what a one-record batch adds to the record's key,
// value and headers: the 61-byte batch header and the record's own lengths,
// deltas and attributes.
const batchFraming = 61 + 20

// recordBytes is the size of a record's key, value and headers.
func recordBytes(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// defaultMaxMessageBytes is Kafka's default max.message.bytes, used when the
// topic's config cannot be read.
const defaultMaxMessageBytes = 1000012

// maxProduceBytes is the most ktool writes to a broker in one request
// (kgo's BrokerMaxWriteBytes default and the broker's socket.request.max.bytes
// default), so a batch must fit in it with room for the request's framing.
const maxProduceBytes = 100<<20 - 1<<10

// topicMaxMessageBytes returns the topic's max.message.bytes (which the
// broker fills from its message.max.bytes when the topic sets none), bounded
// by what one produce request can carry.
func (e *env) topicMaxMessageBytes(ctx context.Context, adm *kadm.Client, topic string) (int32, error) {
	rctx, cancel := request(ctx)
	defer cancel()
	rcs, err := adm.DescribeTopicConfigs(rctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describing configs of %s: %w", topic, e.explain(ctx, err))
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		// Not allowed to read configs, say: the broker still decides.
		return defaultMaxMessageBytes, nil
	}
	for _, c := range rc.Configs {
		if c.Key != "max.message.bytes" || c.Value == nil {
			continue
		}
		if n, err := strconv.ParseInt(*c.Value, 10, 64); err == nil && n > 0 {
			return int32(max(512, min(n, maxProduceBytes))), nil
		}
	}
	return defaultMaxMessageBytes, nil
}
