package txn

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// AuthorizationError is the broker refusing the loop an operation it needs
// for want of an ACL. The loop cannot work around it: it retries with backoff
// until the permission is granted, and reports it through
// Observer.Authorization.
type AuthorizationError struct {
	Resource  string // the ACL resource type: "topic", "group", "transactional-id" or "cluster"
	Name      string // the topic, group or transactional id; empty for the cluster
	Operation string // the ACL operation that is missing: "Read", "Write" or "IdempotentWrite"
	Err       error  // the broker's error, e.g. kerr.TopicAuthorizationFailed
}

func (e *AuthorizationError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("not authorized: %s on the %s is missing: %v", e.Operation, e.Resource, e.Err)
	}
	return fmt.Sprintf("not authorized: %s on %s %q is missing: %v", e.Operation, e.Resource, e.Name, e.Err)
}

// Unwrap returns the broker's error.
func (e *AuthorizationError) Unwrap() error { return e.Err }

// Hint is what an operator would run to grant the permission, with the
// principal left for them to fill in.
func (e *AuthorizationError) Hint() string {
	target := "--cluster"
	if e.Resource != "cluster" {
		target = "--" + e.Resource + " " + e.Name
	}
	return fmt.Sprintf("kafka-acls.sh --add --allow-principal User:<principal> --operation %s %s", e.Operation, target)
}

// authorizationError classifies err as a missing permission, naming it from
// what the loop was doing: reading topic (a fetch, "" if none), producing,
// or running the group and transaction protocol.
func (l *Loop) authorizationError(err error, topic string, producing bool) *AuthorizationError {
	var e *AuthorizationError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		op := "Read"
		if producing {
			op = "Write"
		}
		return &AuthorizationError{Resource: "topic", Name: topic, Operation: op, Err: kerr.TopicAuthorizationFailed}
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		return &AuthorizationError{Resource: "group", Name: l.cfg.Group, Operation: "Read", Err: kerr.GroupAuthorizationFailed}
	case errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return &AuthorizationError{Resource: "transactional-id", Name: l.cfg.TransactionalID, Operation: "Write", Err: kerr.TransactionalIDAuthorizationFailed}
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return &AuthorizationError{Resource: "cluster", Operation: "IdempotentWrite", Err: kerr.ClusterAuthorizationFailed}
	}
	return nil
}

// Where an authorization failure was seen; what clears it depends on it.
type authSource uint8

const (
	authFromPoll authSource = iota + 1 // cleared by a poll without errors
	authFromTxn                        // Begin, produce, End: cleared by a commit
)

// reportUnauthorized logs e (rate-limited per permission) and reports it.
func (l *Loop) reportUnauthorized(e *AuthorizationError, src authSource) {
	if l.authFailing == 0 || src == authFromTxn {
		l.authFailing = src
	}
	l.obs.Authorization(e)
	key := "authz:" + e.Resource + ":" + e.Name + ":" + e.Operation
	if ok, suppressed := l.warned.allow(key, time.Now()); ok {
		l.log.Error("not authorized: the broker refuses a permission this processor needs; grant it to the client's principal, the loop retries meanwhile",
			"resource", e.Resource, "name", e.Name, "operation", e.Operation, "err", e.Err, "grant", e.Hint(), "suppressed_since_last", suppressed)
	}
}

// reportAuthorized clears an authorization failure that src clears.
func (l *Loop) reportAuthorized(src authSource) {
	if l.authFailing == 0 || (src == authFromPoll && l.authFailing == authFromTxn) {
		return
	}
	l.authFailing = 0
	l.obs.Authorization(nil)
	l.log.Info("authorized again: the loop works normally")
}
