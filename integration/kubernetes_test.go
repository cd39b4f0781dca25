//go:build k8s

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
)

// TestKubernetes installs the chart with Helm on a real single-node
// Kubernetes (k8s/cluster.sh: kube-apiserver, controller-manager, scheduler,
// kubelet and containerd on 127.0.0.1, no registry) with the image `make
// image` builds, and runs it against the test broker as README's "Deploying
// with Helm" shows: helm install --wait; kubectl scale 1 -> 3 -> 1 while
// input flows; a hung pod deleted (the StatefulSet restarts it under the same
// transactional id, which fences the hung transaction); helm upgrade with a
// changed value (a rolling restart, and a scale-out to 3); helm uninstall,
// which leaves nothing. After every step package verify checks exactly-once
// over everything produced so far. Once with Helm 3 and once with Helm 4.
//
// It runs only with -tags k8s (make k8s-test): it needs root and the
// binaries k8s/build.sh builds, and it fails, never skips, without them.
func TestKubernetes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("TestKubernetes needs root: it runs containerd and the kubelet (run make k8s-test as root)")
	}
	helms := []struct {
		name, path, major string
		// serverSide: Helm 4 applies server-side, so after `kubectl
		// scale` an upgrade that sets replicaCount conflicts with kubectl's
		// ownership of .spec.replicas until --force-conflicts.
		serverSide bool
	}{
		{"Helm3", tool(t, "helm", "HELM", "GOBIN=DIR go install helm.sh/helm/v3/cmd/helm@"+helmVersion), "v3.", false},
		{"Helm4", tool(t, "helm4", "HELM4", "GOBIN=DIR go install helm.sh/helm/v4/cmd/helm@"+helm4Version), "v4.", true},
	}
	k := startKube(t)
	started := time.Now()
	runCmd(t, 10*time.Minute, []string{"IMAGE=" + k8sImage}, "bash", "../image/build.sh")
	k.cluster(t, 5*time.Minute, "import", k8sImage)
	t.Logf("built %s and imported it into the node in %s", k8sImage, time.Since(started).Round(time.Second))

	for _, h := range helms {
		t.Run(h.name, func(t *testing.T) {
			version := strings.TrimSpace(runCmd(t, time.Minute, nil, h.path, "version", "--short"))
			if !strings.HasPrefix(version, h.major) {
				t.Fatalf("%s is Helm %s, want %s*", h.path, version, h.major)
			}
			t.Logf("helm %s", version)
			testHelmLifecycle(t, k, h.path, h.serverSide)
		})
	}
}

const (
	// k8sImage is what `make image` builds and README's commands install.
	k8sImage = "event-processor:dev"
	// helm4Version is the Helm 4 that .ci/run installs beside Helm 3.
	helm4Version = "v4.3.1"
	// k8sWork is the cluster's directory under the temporary directory: a
	// fixed name, so that a run killed before its cleanup is torn down by
	// the next one.
	k8sWork = "event-processor-k8s-test"
	// k8sRelease is the Helm release; its StatefulSet is k8sRelease-event-processor.
	k8sRelease = "ep"
	k8sSTS     = k8sRelease + "-event-processor"
	// k8sPartitions lets three replicas have two partitions each.
	k8sPartitions = 6
	// waitPods bounds every wait for pods to come, go or be ready.
	waitPods = 3 * time.Minute
	// verifyTimeout bounds each exactly-once check: the group commits every
	// input, then the results are read to their end under read_committed.
	// It is shorter than the releases' transaction timeout (hungTxnTimeout),
	// so a hung transaction that nobody fenced would fail the check.
	verifyTimeout  = 2 * time.Minute
	hungTxnTimeout = "5m"
)

// testHelmLifecycle is one release's life with the helm at path, in a
// namespace of its own, with topics and group of its own.
func testHelmLifecycle(t *testing.T, k *kube, helm string, serverSide bool) {
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	p := newPipeline(t, broker, k8sPartitions, nil)
	port := freePortRange(t, 10)
	h := helmRunner{path: helm, env: append(k.env(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())}
	txnPrefix := ns + "-"
	t.Cleanup(func() {
		// Whatever a failed step left: the release, then the namespace.
		_, _ = h.try(time.Minute, "uninstall", k8sRelease, "--namespace", ns, "--wait", "--timeout", "1m")
		_, _ = k.try(time.Minute, "delete", "namespace", ns, "--ignore-not-found", "--wait", "--timeout", "1m")
	})
	t.Cleanup(func() { k.dumpOnFailure(t, ns) }) // cleanups run last first: before the uninstall

	step := func(name string, f func()) {
		t.Helper()
		started := time.Now()
		f()
		t.Logf("%s: %s", name, time.Since(started).Round(100*time.Millisecond))
	}
	inputs := map[srcPos][]byte{}
	check := func(what string) {
		t.Helper()
		o, e := p.checkExactlyOnce(t, inputs, verifyTimeout)
		t.Logf("%s: %d inputs, each with exactly one result: %d outputs, %d error events", what, len(inputs), o, e)
	}
	// flowing feeds input until the returned stop is called, which adds what
	// it produced to inputs.
	seed := uint64(1)
	flowing := func() (stop func()) {
		seed++
		f := p.feed(t, examples.Mixed(500, seed), 25, 20*time.Millisecond)
		return func() { maps.Copy(inputs, f.stop(t)) }
	}

	// The same command as README's "Deploying with Helm", with this test's
	// broker, topics, group, ports and transaction timeout.
	install := []string{"install", k8sRelease, "../helm/event-processor", "--namespace", ns, "--create-namespace",
		"--wait", "--timeout", "3m",
		"--set", "image.repository=event-processor,image.tag=dev,image.pullPolicy=Never",
		"--set", fmt.Sprintf("hostNetwork=true,portPerPod=true,containerPort=%d", port),
		"--set", "kafka.bootstrapServers=" + p.b.Addr,
		"--set", fmt.Sprintf("topics.input=%s,topics.output=%s,topics.error=%s,consumerGroup=%s", p.input, p.output, p.errored, p.group),
		"--set", "transactionalIdPrefix=" + txnPrefix + ",transaction.timeout=" + hungTxnTimeout,
	}
	step("helm install --wait, 1 replica, ready", func() {
		maps.Copy(inputs, p.produce(t, examples.Mixed(2000, seed)))
		h.run(t, 4*time.Minute, install...)
		k.awaitPods(t, ns, port, 1)
	})
	check("after helm install")

	var pods []pod
	step("kubectl scale 1 -> 3, input flowing, all 3 ready", func() {
		stop := flowing()
		time.Sleep(2 * time.Second)
		k.run(t, time.Minute, "--namespace", ns, "scale", "statefulset", k8sSTS, "--replicas=3")
		pods = k.awaitPods(t, ns, port, 3)
		time.Sleep(2 * time.Second)
		stop()
	})
	check("after scale to 3")
	for _, pd := range pods {
		code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port+pd.index))
		if code != http.StatusOK || !strings.Contains(body, "event_processor_records_total") {
			t.Errorf("pod %s: /metrics on port %d = %d without event_processor_records_total", pd.name, port+pd.index, code)
		}
	}

	step("kubectl scale 3 -> 1, input flowing, the last one ready", func() {
		stop := flowing()
		time.Sleep(2 * time.Second)
		k.run(t, time.Minute, "--namespace", ns, "scale", "statefulset", k8sSTS, "--replicas=1")
		k.awaitPods(t, ns, port, 1)
		time.Sleep(2 * time.Second)
		stop()
	})
	check("after scale to 1")

	// A pod that hangs with its transaction open (SIGSTOP) and is deleted:
	// the kubelet kills it after the grace period, the StatefulSet starts
	// the pod again under the same name, so the same transactional id,
	// and its InitProducerID fences the hung transaction at once. Without
	// that, read_committed readers would wait the release's 5 minutes of
	// transaction timeout, past the check's bound.
	pod0 := k8sSTS + "-0"
	txnID := txnPrefix + pod0
	step("a hung pod deleted, restarted under the same transactional id, ready", func() {
		stop := flowing()
		zombie := k.hang(t, p, txnID)
		old := k.pods(t, ns)
		k.run(t, 2*time.Minute, "--namespace", ns, "delete", "pod", pod0, "--grace-period=2", "--wait=true", "--timeout=90s")
		now := k.awaitPods(t, ns, port, 1)
		if now[0].uid == old[0].uid {
			t.Fatalf("pod %s has its old uid after being deleted", pod0)
		}
		if pids := processesWithEnv(t, "TRANSACTIONAL_ID="+txnID); len(pids) != 1 || pids[0] == zombie {
			t.Fatalf("processes with TRANSACTIONAL_ID=%s: %v (the deleted one was %d); want exactly one new one", txnID, pids, zombie)
		}
		time.Sleep(2 * time.Second)
		stop()
	})
	check("after a hung pod was deleted and restarted")

	step("helm upgrade (transaction.maxInterval, replicaCount 3), input flowing, rolled", func() {
		stop := flowing()
		before := k.pods(t, ns)
		upgrade := []string{"upgrade", k8sRelease, "../helm/event-processor", "--namespace", ns, "--reuse-values",
			"--wait", "--timeout", "3m", "--set", "transaction.maxInterval=50ms,replicaCount=3"}
		if serverSide {
			out, err := h.try(time.Minute, upgrade...)
			if err == nil || !strings.Contains(out, `conflict with "kubectl" with subresource "scale"`) || !strings.Contains(out, ".spec.replicas") {
				t.Fatalf("helm upgrade of replicaCount after kubectl scale: %v\n%s\nwant the conflict on .spec.replicas that docs/kubernetes.md describes", err, out)
			}
			upgrade = append(upgrade, "--force-conflicts")
		}
		h.run(t, 4*time.Minute, upgrade...)
		k.run(t, waitPods, "--namespace", ns, "rollout", "status", "statefulset", k8sSTS, "--timeout", waitPods.String())
		after := k.awaitPods(t, ns, port, 3)
		revision := strings.TrimSpace(k.run(t, time.Minute, "--namespace", ns, "get", "statefulset", k8sSTS, "-o", "jsonpath={.status.updateRevision}"))
		for _, pd := range after {
			if pd.revision != revision {
				t.Errorf("pod %s runs revision %s after the upgrade, want %s", pd.name, pd.revision, revision)
			}
			if pd.name == before[0].name && pd.uid == before[0].uid {
				t.Errorf("pod %s was not restarted by the upgrade", pd.name)
			}
		}
		env := k.run(t, time.Minute, "--namespace", ns, "get", "pod", pod0, "-o", `jsonpath={.spec.containers[0].env[?(@.name=="TXN_MAX_INTERVAL")].value}`)
		if strings.TrimSpace(env) != "50ms" {
			t.Errorf("after the upgrade pod %s has TXN_MAX_INTERVAL %q, want 50ms", pod0, env)
		}
		time.Sleep(2 * time.Second)
		stop()
	})
	check("after helm upgrade")

	step("helm uninstall --wait, nothing left", func() {
		h.run(t, 3*time.Minute, "uninstall", k8sRelease, "--namespace", ns, "--wait", "--timeout", "2m")
		k.awaitPods(t, ns, port, 0)
		left := strings.TrimSpace(k.run(t, time.Minute, "--namespace", ns, "get",
			"statefulsets,pods,services,poddisruptionbudgets,serviceaccounts,configmaps,secrets",
			"-l", "app.kubernetes.io/instance="+k8sRelease, "-o", "name"))
		if left != "" {
			t.Errorf("left after helm uninstall:\n%s", left)
		}
		if releases := strings.TrimSpace(h.run(t, time.Minute, "list", "--namespace", ns, "-q",
			"--deployed", "--failed", "--pending", "--superseded", "--uninstalling", "--uninstalled")); releases != "" {
			t.Errorf("helm still lists %q", releases)
		}
		if secrets := strings.TrimSpace(k.run(t, time.Minute, "--namespace", ns, "get", "secrets", "-l", "owner=helm", "-o", "name")); secrets != "" {
			t.Errorf("helm's release records are left: %s", secrets)
		}
		deadline := time.Now().Add(time.Minute)
		for pids := processesWithEnvPrefix(t, "TRANSACTIONAL_ID="+txnPrefix); len(pids) > 0; pids = processesWithEnvPrefix(t, "TRANSACTIONAL_ID="+txnPrefix) {
			if time.Now().After(deadline) {
				t.Fatalf("processors still run a minute after helm uninstall: pids %v", pids)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	check("after helm uninstall")
}

// kube is the cluster k8s/cluster.sh runs for the test.
type kube struct {
	work, bin, kubeconfig string
}

// startKube builds the binaries if they are not yet (k8s/build.sh), tears
// down what a killed run may have left in the test's work directory, and
// brings the cluster up; a cleanup tears it down and checks that nothing is
// left.
func startKube(t *testing.T) *kube {
	t.Helper()
	out := runCmd(t, 60*time.Minute, nil, "bash", "../k8s/build.sh")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	k := &kube{work: filepath.Join(os.TempDir(), k8sWork), bin: lines[len(lines)-1]}
	k.kubeconfig = filepath.Join(k.work, "admin.kubeconfig")
	if _, err := os.Stat(k.work); err == nil {
		k.cluster(t, 3*time.Minute, "down")
		if err := os.RemoveAll(k.work); err != nil {
			t.Fatal(err)
		}
	}
	base := freePortRange(t, 8)
	started := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"} {
				b, _ := os.ReadFile(filepath.Join(k.work, "logs", name+".log"))
				t.Logf("the end of %s's log:\n%s", name, tail(string(b), 15))
			}
		}
		if out, err := tryCmd(3*time.Minute, k.env(), "bash", "../k8s/cluster.sh", "down"); err != nil {
			t.Errorf("k8s/cluster.sh down: %v\n%s", err, out)
			return
		}
		if b, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(b, []byte(" "+k.work+"/")) {
			t.Errorf("mounts under %s are left after down", k.work)
		}
		if _, err := os.Stat("/var/lib/kubelet/device-plugins"); err == nil {
			t.Error("/var/lib/kubelet/device-plugins is left after down")
		}
		_ = os.RemoveAll(k.work)
	})
	k.clusterEnv(t, 5*time.Minute, []string{"K8S_PORT_BASE=" + strconv.Itoa(base)}, "up")
	server := k.run(t, time.Minute, "version", "-o", "json")
	var v struct {
		Server struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(server), &v); err != nil || v.Server.GitVersion != "v1.34.4" {
		t.Fatalf("the cluster's version is %q (%v), want v1.34.4:\n%s", v.Server.GitVersion, err, server)
	}
	t.Logf("Kubernetes %s up in %s, ports 127.0.0.1:%d-%d", v.Server.GitVersion, time.Since(started).Round(100*time.Millisecond), base, base+7)
	return k
}

func (k *kube) env() []string {
	return []string{"KUBECONFIG=" + k.kubeconfig, "K8S_WORK=" + k.work, "K8S_BIN=" + k.bin}
}

func (k *kube) cluster(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	return k.clusterEnv(t, timeout, nil, args...)
}

func (k *kube) clusterEnv(t *testing.T, timeout time.Duration, env []string, args ...string) string {
	t.Helper()
	return runCmd(t, timeout, append(k.env(), env...), "bash", append([]string{"../k8s/cluster.sh"}, args...)...)
}

// try runs kubectl and returns its error.
func (k *kube) try(timeout time.Duration, args ...string) (string, error) {
	return tryCmd(timeout, k.env(), filepath.Join(k.bin, "kubectl"), args...)
}

// run runs kubectl.
func (k *kube) run(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	return runCmd(t, timeout, k.env(), filepath.Join(k.bin, "kubectl"), args...)
}

// pod is what the test reads of a pod of the release.
type pod struct {
	name, uid, revision string
	index               int
	ready, terminating  bool
}

func (k *kube) pods(t *testing.T, ns string) []pod {
	t.Helper()
	out := k.run(t, time.Minute, "--namespace", ns, "get", "pods", "-l", "app.kubernetes.io/instance="+k8sRelease, "-o", "json")
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string            `json:"name"`
				UID               string            `json:"uid"`
				Labels            map[string]string `json:"labels"`
				DeletionTimestamp *string           `json:"deletionTimestamp"`
			} `json:"metadata"`
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("kubectl get pods: %v", err)
	}
	var pods []pod
	for _, it := range list.Items {
		pd := pod{name: it.Metadata.Name, uid: it.Metadata.UID, revision: it.Metadata.Labels["controller-revision-hash"],
			terminating: it.Metadata.DeletionTimestamp != nil}
		pd.index, _ = strconv.Atoi(it.Metadata.Labels["apps.kubernetes.io/pod-index"])
		for _, c := range it.Status.Conditions {
			pd.ready = pd.ready || c.Type == "Ready" && c.Status == "True"
		}
		pods = append(pods, pd)
	}
	return pods
}

// awaitPods waits until the release has exactly n pods, none terminating,
// each Ready and each processor's own /readyz (on containerPort + ordinal)
// 200: it has its partition assignment. It returns them in ordinal order.
func (k *kube) awaitPods(t *testing.T, ns string, port, n int) []pod {
	t.Helper()
	deadline := time.Now().Add(waitPods)
	for {
		pods := k.pods(t, ns)
		why := ""
		if len(pods) != n {
			why = fmt.Sprintf("%d pods", len(pods))
		}
		byIndex := make([]pod, n)
		for _, pd := range pods {
			switch {
			case why != "":
			case pd.terminating || !pd.ready:
				why = fmt.Sprintf("pod %s ready %v, terminating %v", pd.name, pd.ready, pd.terminating)
			case pd.index >= n:
				why = fmt.Sprintf("pod %s has ordinal %d", pd.name, pd.index)
			default:
				byIndex[pd.index] = pd
				if code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", port+pd.index)); code != http.StatusOK {
					why = fmt.Sprintf("pod %s: /readyz on port %d = %d %s", pd.name, port+pd.index, code, strings.TrimSpace(body))
				}
			}
		}
		if why == "" {
			return byIndex
		}
		if time.Now().After(deadline) {
			t.Fatalf("the release did not reach %d ready pods within %s: %s", n, waitPods, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// hang stops the processor with transactional id txnID (SIGSTOP) while it
// has a transaction open on the broker, and returns its pid.
func (k *kube) hang(t *testing.T, p *pipeline, txnID string) int {
	t.Helper()
	adm := admin(t, p.b)
	for range 50 {
		pids := processesWithEnv(t, "TRANSACTIONAL_ID="+txnID)
		if len(pids) != 1 {
			t.Fatalf("processes with TRANSACTIONAL_ID=%s: %v, want one", txnID, pids)
		}
		if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		txns, err := adm.DescribeTransactions(t.Context(), txnID)
		if err == nil {
			if d, ok := txns[txnID]; ok && d.Err == nil && d.State == "Ongoing" {
				t.Logf("processor %d stopped with transaction %s open (producer %d, epoch %d)", pids[0], txnID, d.ProducerID, d.ProducerEpoch)
				return pids[0]
			}
		}
		_ = syscall.Kill(pids[0], syscall.SIGCONT)
		time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
	}
	t.Fatalf("processor with transactional id %s never had a transaction open when stopped (50 tries)", txnID)
	return 0
}

// processesWithEnv returns the host pids whose environment has kv, a
// NAME=value.
func processesWithEnv(t *testing.T, kv string) []int {
	t.Helper()
	return processes(t, func(e []byte) bool { return string(e) == kv })
}

// processesWithEnvPrefix returns the host pids whose environment has a
// variable that starts with prefix.
func processesWithEnvPrefix(t *testing.T, prefix string) []int {
	t.Helper()
	return processes(t, func(e []byte) bool { return bytes.HasPrefix(e, []byte(prefix)) })
}

func processes(t *testing.T, match func(env []byte) bool) []int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue
		}
		for _, e := range bytes.Split(env, []byte{0}) {
			if match(e) {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// dumpOnFailure logs the namespace's pods, events and processor logs when
// the test failed.
func (k *kube) dumpOnFailure(t *testing.T, ns string) {
	if !t.Failed() {
		return
	}
	for _, args := range [][]string{
		{"--namespace", ns, "get", "statefulsets,pods", "-o", "wide"},
		{"--namespace", ns, "get", "events", "--sort-by=.lastTimestamp"},
		{"--namespace", ns, "logs", "-l", "app.kubernetes.io/instance=" + k8sRelease, "--prefix", "--tail=30"},
	} {
		out, err := k.try(time.Minute, args...)
		t.Logf("kubectl %s (%v):\n%s", strings.Join(args, " "), err, out)
	}
}

// helmRunner runs one Helm with the cluster's kubeconfig and directories
// of its own.
type helmRunner struct {
	path string
	env  []string
}

func (h helmRunner) run(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	return runCmd(t, timeout, h.env, h.path, args...)
}

func (h helmRunner) try(timeout time.Duration, args ...string) (string, error) {
	return tryCmd(timeout, h.env, h.path, args...)
}

// runCmd runs a command with env added to the test's, bounded by timeout, and
// fails the test with its output if it fails.
func runCmd(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryCmd(timeout, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

func tryCmd(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("not done within %s: %w", timeout, err)
	}
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// freePortRange returns the first of n consecutive ports on 127.0.0.1, the
// first a multiple of 10, that were all free a moment ago.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + 10*rand.IntN(1200) // below the ephemeral range
		var ls []net.Listener
		ok := true
		for i := range n {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1 in 100 tries", n)
	return 0
}
