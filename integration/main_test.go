package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// broker is shared by every test in this package; tests that stop or restart
// a broker start their own.
var broker *Broker

func TestMain(m *testing.M) {
	os.Exit(runWithBroker(m))
}

func runWithBroker(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	broker, err = StartBroker(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	defer broker.Terminate(context.Background())
	return m.Run()
}
