package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/event-processor/event-processor/txn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicCheckInterval is how often the processor looks at its topics while
// it runs: within about this long, a missing topic turns readiness off, and
// a re-created topic or a changed max.message.bytes is acted on.
const topicCheckInterval = 5 * time.Second

// topicIDs returns the topic id of each of cfg's three topics.
// coordinatorProblem asks a seed broker once, directly (the client's own
// coordinator lookup retries for its whole retry timeout), for the
// group's and the transactional id's coordinators, and returns what is
// wrong, or nil.
func (p *Processor) coordinatorProblem(ctx context.Context) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.cfg.Brokers...), kgo.WithLogger(nil)}, p.opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, key := range []struct {
		typ  int8 // 0 group, 1 transactional id
		name string
		what string
	}{{0, p.cfg.Group, "group"}, {1, p.cfg.TransactionalID, "transactional id"}} {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType = key.typ
		req.CoordinatorKey = key.name
		req.CoordinatorKeys = []string{key.name}
		var resp kmsg.Response
		for _, b := range cl.SeedBrokers() {
			if resp, err = b.Request(ctx, req); err == nil {
				break
			}
		}
		if err != nil {
			return nil // unreachable: the loop and awaitTopics say so
		}
		fr := resp.(*kmsg.FindCoordinatorResponse)
		code := fr.ErrorCode
		for _, c := range fr.Coordinators {
			if c.ErrorCode != 0 {
				code = c.ErrorCode
			}
		}
		if err := kerr.ErrorForCode(code); err != nil {
			return fmt.Errorf("finding the coordinator of %s %s: %w", key.what, key.name, err)
		}
	}
	return nil
}

func topicIDs(ctx context.Context, adm *kadm.Client, cfg Config) (map[string]kadm.TopicID, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tds, err := adm.ListTopics(ctx, cfg.InputTopic, cfg.OutputTopic, cfg.ErrorTopic)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]kadm.TopicID, len(tds))
	for name, td := range tds {
		if td.Err == nil {
			ids[name] = td.ID
		}
	}
	return ids, nil
}

// watchTopics looks at the topics every topicCheckInterval until ctx ends.
// Clients cannot notice these by themselves, and each stalled a running
// processor until it was restarted:
//   - a topic that is missing: readiness is off (with the command that
//     creates it) until it exists again;
//   - a topic deleted and re-created (a new topic id): the clients keep the
//     old id and every produce or fetch fails, so the loop builds a new
//     session;
//   - the output or error topic's max.message.bytes changed: results are
//     made under the new limit from then on, and the loop builds a new
//     session so that the producer's batches follow it too.
func (p *Processor) watchTopics(ctx context.Context, adm *kadm.Client, loop *txn.Loop, ids map[string]kadm.TopicID) {
	tick := time.NewTicker(topicCheckInterval)
	defer tick.Stop()
	var (
		told   string // the coordinator problem last logged
		failed int    // checks in a row that found one
	)
	for {
		if !p.health.assigned.Load() {
			// Not processing yet: say within seconds if the cluster
			// cannot place our coordinators, instead of waiting out the
			// client's retries in silence. A new cluster answers
			// COORDINATOR_NOT_AVAILABLE for a moment while it creates
			// its internal topics, so only a problem still there one
			// check later is told.
			if err := p.coordinatorProblem(ctx); err == nil {
				told, failed = "", 0
			} else if failed++; failed >= 2 && err.Error() != told {
				told = err.Error()
				p.log.Warn("not ready: the cluster cannot serve this group or transactional id", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		limit, err := RecordLimit(ctx, adm, p.cfg)
		var missing *MissingTopicError
		switch {
		case errors.As(err, &missing):
			if p.health.setTopicProblem(err.Error()) {
				p.log.Warn("not ready: a topic is missing; processing resumes once it exists", "err", err)
			}
			continue
		case err != nil:
			continue // unreachable brokers: the loop reports those
		}
		if p.health.setTopicProblem("") {
			p.log.Info("the topics exist again")
		}
		now, err := topicIDs(ctx, adm, p.cfg)
		if err != nil {
			continue
		}
		var why []string
		for name, id := range now {
			if old, ok := ids[name]; ok && old != id {
				why = append(why, fmt.Sprintf("topic %s was deleted and re-created (topic id %s, was %s)", name, id, old))
			}
		}
		ids = now
		if old := p.router.Load().Limit(); limit != old {
			rt, err := NewRouter(p.cfg, limit, p.now)
			if err != nil {
				p.log.Error("the output or error topic's max.message.bytes leaves too little room for events; keeping the previous limit",
					"record_limit_bytes", limit, "err", err)
			} else {
				p.router.Store(rt)
				why = append(why, fmt.Sprintf("the record size limit changed from %d to %d bytes (--max-record-bytes and the output and error topics' max.message.bytes)", old, limit))
			}
		}
		if len(why) > 0 {
			slices.Sort(why)
			reason := errors.New(strings.Join(why, "; "))
			p.log.Warn("the topics changed under the processor; building a new session", "reason", reason)
			loop.Rebuild(reason)
		}
	}
}
