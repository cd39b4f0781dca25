package txn

import (
	"context"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// connCounter counts a client's open broker connections.
type connCounter struct {
	mu   sync.Mutex
	open map[net.Conn]bool
}

func (c *connCounter) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, conn net.Conn, err error) {
	if err == nil && conn != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.open == nil {
			c.open = make(map[net.Conn]bool)
		}
		c.open[conn] = true
	}
}

func (c *connCounter) OnBrokerDisconnect(_ kgo.BrokerMetadata, conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.open, conn)
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// A session whose Close does not finish within ShutdownTimeout is left
// closing in the background while the loop builds the next one. Over many
// rebuilds that must not leak: once the abandoned closes finish, the
// goroutines and broker connections of all the old sessions are gone.
func TestRebuildsDoNotLeak(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	const rebuilds = 50
	c := newCluster(t)
	conns := &connCounter{}
	cfg := testConfig(t, c, "a", nil)
	cfg.ShutdownTimeout = time.Millisecond // every close is left running
	cfg.ClientOpts = append(cfg.ClientOpts, kgo.WithHooks(conns))
	var logs syncBuffer
	cfg.Logger = testLogger(t, &logs)
	l, err := New(cfg, identity)
	if err != nil {
		t.Fatal(err)
	}

	settle := func(within int, what string) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= within && conns.count() == 0 {
				return n
			}
			if time.Now().After(deadline) {
				if path := os.Getenv("TXN_TEST_STACKS"); path != "" {
					if f, err := os.Create(path); err == nil {
						pprof.Lookup("goroutine").WriteTo(f, 1)
						f.Close()
					}
				}
				t.Fatalf("%s: %d goroutines (want at most %d) and %d open connections (want 0) after 10s", what, n, within, conns.count())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	base := settle(runtime.NumGoroutine(), "before")
	for range rebuilds {
		// As Run builds them.
		sessCtx, cancelSess := context.WithCancel(t.Context())
		l.cancelSess = cancelSess
		sess, err := kgo.NewGroupTransactSession(append(l.opts[:len(l.opts):len(l.opts)], kgo.WithContext(sessCtx))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		sess.PollRecords(ctx, 1) // connect and join
		cancel()
		if err := sess.Begin(); err != nil { // and fence the previous one
			t.Fatalf("Begin: %v", err)
		}
		l.closeSession(t.Context(), sess)
	}
	abandoned := strings.Count(logs.String(), "did not finish in time")
	if abandoned == 0 {
		t.Fatal("every close finished within ShutdownTimeout: the test did not abandon any")
	}
	t.Logf("%d of %d closes did not finish within ShutdownTimeout", abandoned, rebuilds)
	// A little slack for runtime and test goroutines that come and go.
	n := settle(base+5, "after the abandoned closes finished")
	t.Logf("goroutines: %d before, %d after %d rebuilds", base, n, rebuilds)
}
