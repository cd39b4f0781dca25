package integration

import (
	"context"
	"testing"
	"time"
)

// chaosSlots is how many processor instances can run on the campaign's
// cluster at once, each behind its own proxies (the scale-up goes to 3).
const chaosSlots = 3

// TestChaos starts one 3-node cluster for the campaign's tests and removes
// it after them: the cluster harness itself (Cluster), then the fault
// proxies (Faults), then the fault campaign (Campaign: short by default,
// sized by CHAOS_* variables for `make chaos`).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault campaign needs a 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), clusterStartBound+time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterConfig{Nodes: 3, Slots: chaosSlots})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Errorf("removing the cluster: %v", err)
		}
	})
	f, err := NewFaults(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	t.Run("Cluster", func(t *testing.T) { testCluster(t, c) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, c, f) })
	t.Run("Campaign", func(t *testing.T) { testCampaign(t, c, f) })
}
