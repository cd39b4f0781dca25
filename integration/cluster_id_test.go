package integration

import "testing"

// A cluster id must not look like an option to kafka-storage.
func TestClusterIDNeverStartsWithDash(t *testing.T) {
	for range 10000 {
		if id := newClusterID(); id[0] == '-' || len(id) != 22 {
			t.Fatalf("cluster id %q", id)
		}
	}
}
