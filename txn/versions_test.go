package txn

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestKafkaClientVersions guards the floor on the Kafka client modules the
// build selects: franz-go releases before v1.22.3 and kadm before v1.20.0
// have exactly-once bugs (a race undoing the rewind after an abort, a false
// "committed" on UNKNOWN_SERVER_ERROR, INVALID_TXN_STATE when aborting right
// after a commit).
func TestKafkaClientVersions(t *testing.T) {
	floors := []struct {
		path  string
		floor [3]int
	}{
		{"github.com/twmb/franz-go", [3]int{1, 22, 3}},
		{"github.com/twmb/franz-go/pkg/kadm", [3]int{1, 20, 0}},
	}
	for _, f := range floors {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", f.path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -m %s: %v\n%s", f.path, err, out)
		}
		version := strings.TrimSpace(string(out))
		var v [3]int
		if _, err := fmt.Sscanf(version, "v%d.%d.%d", &v[0], &v[1], &v[2]); err != nil {
			t.Errorf("%s: cannot read version %q: %v", f.path, version, err)
			continue
		}
		if v[0] != f.floor[0] || v[1] < f.floor[1] || v[1] == f.floor[1] && v[2] < f.floor[2] {
			t.Errorf("%s is %s, want v%d.%d.%d or a later v%d release", f.path, version, f.floor[0], f.floor[1], f.floor[2], f.floor[0])
		}
	}
}
