package ktool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// UnreachableError is returned when no bootstrap broker answers within
// --connect-timeout.
type UnreachableError struct {
	Brokers []string
	Timeout time.Duration
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Kafka at %s within %s: %v; check that a broker is running and listening there, "+
		"and that --brokers (or %s) names its address", strings.Join(e.Brokers, ","), e.Timeout, e.Err, envBrokers)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// MissingTopicError is returned when a command needs a topic that does not
// exist. ktool never relies on automatic topic creation.
type MissingTopicError struct{ Topic string }

func (e *MissingTopicError) Error() string {
	return fmt.Sprintf("topic %s does not exist; create it with `ktool topics create %s`", e.Topic, e.Topic)
}

// connect returns a client for the bootstrap brokers once one of them has
// answered, failing with *UnreachableError after --connect-timeout.
func (e *env) connect(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := e.newClient(opts...)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, e.connectTimeout)
	defer cancel()
	if err := cl.Ping(pingCtx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if pingCtx.Err() != nil {
			err = fmt.Errorf("no answer (%w)", pingCtx.Err())
		}
		return nil, &UnreachableError{Brokers: e.seeds(), Timeout: e.connectTimeout, Err: err}
	}
	return cl, nil
}

// newClient returns a client for the bootstrap brokers without checking
// that they answer.
func (e *env) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(e.clientOpts(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	return cl, nil
}

// clientOpts are the options every client of ktool's starts from: the
// bootstrap brokers and how to reach them (TLS, SASL: --tls*, --sasl-*).
func (e *env) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(e.seeds()...),
		kgo.DialTimeout(e.connectTimeout),
		kgo.ClientID("ktool"),
	}, e.connOpts...)
}

// admin connects and returns an admin client; close it.
func (e *env) admin(ctx context.Context) (*kadm.Client, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	return newAdmin(cl), nil
}

// newAdmin wraps cl; closing the admin client closes cl.
func newAdmin(cl *kgo.Client) *kadm.Client {
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(requestTimeout / time.Millisecond))
	return adm
}

// request bounds one admin request.
func request(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, requestTimeout)
}

// explain adds what to check to errors whose cause is not obvious: a broker
// that answered the first request but not the next ones usually advertises
// an address that is not reachable from here.
func (e *env) explain(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%w: Kafka at %s answered at first but not within %s since; "+
			"check that the address the broker advertises (advertised.listeners) is reachable from here",
			err, strings.Join(e.seeds(), ","), requestTimeout)
	}
	return err
}

// lookupTopic returns the topic's metadata, or *MissingTopicError.
func (e *env) lookupTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	rctx, cancel := request(ctx)
	defer cancel()
	tds, err := adm.ListTopics(rctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("looking up topic %s: %w", topic, e.explain(ctx, err))
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return kadm.TopicDetail{}, &MissingTopicError{Topic: topic}
	}
	if td.Err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("looking up topic %s: %w", topic, td.Err)
	}
	return td, nil
}
