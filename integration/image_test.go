package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"go.yaml.in/yaml/v3"
)

// These tests run the shipped artifacts: the container image as `make image`
// builds it, started the way the Helm chart's StatefulSet starts it, and the
// chart's dashboard and alerting rules.

const (
	// testImage is the tag TestImage builds with image/build.sh.
	testImage = "event-processor:integration-test"
	// chartDir is the chart, relative to this package.
	chartDir = "../helm/event-processor"
	// release and namespace are the names the chart is rendered with here
	// and in helm/promtool/rules.test.yaml.
	release   = "ep"
	namespace = "default"
	// helmVersion is the Helm that .ci/run installs.
	helmVersion = "v3.19.0"
)

// externalMetrics are the series the dashboard and the rules read from
// elsewhere than the processor's /metrics, and where they come from. Every
// other name they use must be on a running processor's /metrics.
var externalMetrics = map[string]string{
	"up":                    "Prometheus, one per scrape target",
	"kube_pod_status_ready": "kube-state-metrics",
}

// TestImage builds the image, renders the chart and runs the image as the
// StatefulSet would: its environment and arguments, its security context
// (uid 65532, read-only root filesystem, no capabilities, no privilege
// escalation) and its probes, with host networking to the test broker. The
// container processes a mixed batch exactly once, serves /healthz and
// /readyz, exports every metric the chart's dashboard and alerts use, and
// drains on `docker stop` within the chart's grace period while input is
// still arriving (a processor started afterwards finishes it, exactly once).
func TestImage(t *testing.T) {
	helm := tool(t, "helm", "HELM", "GOBIN=DIR go install helm.sh/helm/v3/cmd/helm@"+helmVersion)
	buildImage(t)

	p := newPipeline(t, broker, 3, nil)
	port, _ := strconv.Atoi(strings.TrimPrefix(freeAddr(t), "127.0.0.1:"))
	values := map[string]any{
		"image":                 map[string]any{"repository": strings.Split(testImage, ":")[0], "tag": strings.Split(testImage, ":")[1], "pullPolicy": "Never"},
		"kafka":                 map[string]any{"bootstrapServers": p.b.Addr},
		"topics":                map[string]any{"input": p.input, "output": p.output, "error": p.errored},
		"consumerGroup":         p.group,
		"transactionalIdPrefix": p.group + "-",
		"containerPort":         port,
		// The chart's HTTP_ADDR is ":<port>", every interface; with host
		// networking the test keeps it on loopback, through the chart's
		// documented override.
		"extraEnv": []any{map[string]any{"name": "HTTP_ADDR", "value": fmt.Sprintf("127.0.0.1:%d", port)}},
	}
	sts := renderStatefulSet(t, helm, values)
	c := sts.container(t)
	if c.Image != testImage {
		t.Fatalf("the chart runs image %q, want %q", c.Image, testImage)
	}
	sc := c.SecurityContext
	if sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.RunAsGroup == nil || *sc.RunAsGroup != 65532 ||
		!sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Fatalf("the chart's container securityContext is no longer the restrictive default: %+v", sc)
	}
	podName := sts.Metadata.Name + "-0"
	env := c.environment(t, podName)
	if env["TRANSACTIONAL_ID"] != p.group+"-"+podName {
		t.Fatalf("TRANSACTIONAL_ID = %q, want the prefix and the pod name %q", env["TRANSACTIONAL_ID"], p.group+"-"+podName)
	}
	grace := time.Duration(sts.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second

	inputs := p.produce(t, examples.Mixed(2000, 7))
	started := time.Now()
	ctr, err := testcontainers.Run(t.Context(), c.Image,
		testcontainers.WithCmd(c.Args...),
		testcontainers.WithEnv(env),
		testcontainers.WithConfigModifier(func(cfg *container.Config) {
			cfg.User = fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup)
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			hc.ReadonlyRootfs = sc.ReadOnlyRootFilesystem
			hc.CapDrop = sc.Capabilities.Drop
			hc.SecurityOpt = []string{"no-new-privileges"}
		}),
	)
	if ctr != nil {
		t.Cleanup(func() { _ = ctr.Terminate(context.WithoutCancel(t.Context())) }) // t.Context is cancelled before cleanups run
	}
	if err != nil {
		t.Fatalf("starting %s: %v", c.Image, err)
	}
	logs := func() string { return tail(containerLogs(t.Context(), ctr), 40) }

	info, err := ctr.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if uid := processUID(t, info.State.Pid); uid != "65532" {
		t.Errorf("the container's process runs as uid %s, want 65532", uid)
	}
	if !info.HostConfig.ReadonlyRootfs {
		t.Error("the container's root filesystem is writable")
	}

	base := fmt.Sprintf("http://127.0.0.1:%d", c.port(t, c.LivenessProbe))
	awaitStatusOr(t, base+c.LivenessProbe.HTTPGet.Path, http.StatusOK, 30*time.Second, logs)
	awaitStatusOr(t, fmt.Sprintf("http://127.0.0.1:%d%s", c.port(t, c.ReadinessProbe), c.ReadinessProbe.HTTPGet.Path), http.StatusOK, time.Minute, logs)
	t.Logf("ready %s after the start", time.Since(started).Round(time.Millisecond))

	outputs, errs := p.checkExactlyOnce(t, inputs, 2*time.Minute)
	if outputs != 1800 || errs != 200 {
		t.Errorf("got %d outputs and %d errors, want 1800 and 200", outputs, errs)
	}

	// Every metric the dashboard and the rules use, on this processor.
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	checkMetricsUsed(t, helm, exposedMetrics(body))

	// Stop it while input keeps arriving: the open transaction is committed
	// or aborted, and a processor started afterwards finishes the rest,
	// still exactly once.
	more := p.feed(t, examples.Mixed(500, 8), 50, 20*time.Millisecond)
	time.Sleep(time.Second)
	stopStart := time.Now()
	if err := ctr.Stop(t.Context(), &grace); err != nil {
		t.Fatalf("docker stop: %v", err)
	}
	took := time.Since(stopStart)
	state, err := ctr.State(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if state.Running || state.ExitCode != 0 || took >= grace {
		t.Fatalf("after docker stop (grace %s): running %v, exit code %d, took %s; want exit 0 within the grace period. Log:\n%s",
			grace, state.Running, state.ExitCode, took.Round(time.Millisecond), logs())
	}
	if !loggedStopped(containerLogs(t.Context(), ctr)) {
		t.Errorf("no log line says the processor stopped without error; log:\n%s", logs())
	}
	t.Logf("drained on docker stop in %s (grace %s), exit code 0", took.Round(time.Millisecond), grace)
	maps.Copy(inputs, more.stop(t))
	p.start(t, p.config("after"))
	p.checkExactlyOnce(t, inputs, 2*time.Minute)

	// The image's binary has no embedded demo broker.
	out, err := exec.CommandContext(t.Context(), "docker", "run", "--rm", "--read-only", "--cap-drop", "ALL",
		"--network", "host", testImage, "demo").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "no embedded demo broker") {
		t.Errorf("`event-processor demo` in the image: %v, %s; want exit 2 and a message that the demo is not built in", err, out)
	}
}

// TestChartRules checks the chart's alerting rules with promtool and runs
// their unit tests, helm/promtool/rules.test.yaml.
func TestChartRules(t *testing.T) {
	helm := tool(t, "helm", "HELM", "GOBIN=DIR go install helm.sh/helm/v3/cmd/helm@"+helmVersion)
	promtool := tool(t, "promtool", "PROMTOOL",
		"apt-get download prometheus && dpkg -x prometheus_*.deb DIR && cp DIR/usr/bin/promtool somewhere on PATH (Debian's prometheus package)")
	dir := t.TempDir()
	rules := renderRules(t, helm)
	b, err := yaml.Marshal(map[string]any{"groups": rules})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("../helm/promtool/rules.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules.test.yaml"}} {
		cmd := exec.CommandContext(t.Context(), promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPromQLMetricNames checks the extraction checkMetricsUsed relies on.
func TestPromQLMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (outcome) (rate(event_processor_records_total{namespace="$namespace", job=~"a|b"}[$__rate_interval]))`, []string{"event_processor_records_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="}"}[5m]))) > 0.5`, []string{"x_bucket"}},
		{`a / on (namespace, pod) group_left (x) b unless ignoring(y) c and bool d offset 5m`, []string{"a", "b", "c", "d"}},
		{`label_values(event_processor_records_total{namespace="$namespace"}, job)`, []string{"event_processor_records_total"}},
		{`max by (pod) (kube_pod_status_ready{condition="true"} and on (namespace, pod) up{job="j"}) == 0`, []string{"kube_pod_status_ready", "up"}},
	} {
		if got := promQLMetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("promQLMetricNames(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// tool finds an external command: $env, then PATH, then the cache .ci/run
// installs into. It fails the test, saying how to get the tool, when there
// is none: a test that cannot run is a failure, not a skip.
func tool(t *testing.T, name, env, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if cache, err := os.UserCacheDir(); err == nil {
		if p := filepath.Join(cache, "event-processor", "tools", "bin", name); isExecutable(p) {
			return p
		}
	}
	t.Fatalf("%s is needed and not found (not in $%s, not on PATH): `bash .ci/run` installs it, or: %s", name, env, install)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// buildImage builds testImage with the script `make image` runs, and removes
// it at the end of the test.
func buildImage(t *testing.T) {
	t.Helper()
	started := time.Now()
	cmd := exec.CommandContext(t.Context(), "bash", "../image/build.sh")
	cmd.Env = append(os.Environ(), "IMAGE="+testImage)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("image/build.sh: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", testImage, time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", testImage).Run() })
}

// helmTemplate renders the chart as release ep with values (written to a
// file, so that types survive) and extra --set flags, and returns its
// documents.
func helmTemplate(t *testing.T, helm string, values map[string]any, set ...string) []*yaml.Node {
	t.Helper()
	file := filepath.Join(t.TempDir(), "values.yaml")
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"template", release, chartDir, "--namespace", namespace, "-f", file}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.CommandContext(t.Context(), helm, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var docs []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("parsing helm's output: %v", err)
		}
		if n.Kind != 0 {
			docs = append(docs, &n)
		}
	}
	return docs
}

// rendered returns the one document of kind, decoded into v.
func rendered(t *testing.T, docs []*yaml.Node, kind string, v any) {
	t.Helper()
	var found int
	for _, d := range docs {
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := d.Decode(&head); err != nil {
			t.Fatal(err)
		}
		if head.Kind == kind {
			found++
			if err := d.Decode(v); err != nil {
				t.Fatalf("decoding the %s: %v", kind, err)
			}
		}
	}
	if found != 1 {
		t.Fatalf("the chart rendered %d documents of kind %s, want 1", found, kind)
	}
}

// statefulSet is what TestImage reads of the chart's StatefulSet.
type statefulSet struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int              `yaml:"terminationGracePeriodSeconds"`
				Containers                    []chartContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type chartContainer struct {
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	SecurityContext struct {
		RunAsUser                *int64 `yaml:"runAsUser"`
		RunAsGroup               *int64 `yaml:"runAsGroup"`
		ReadOnlyRootFilesystem   bool   `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a port's name
	} `yaml:"httpGet"`
}

func renderStatefulSet(t *testing.T, helm string, values map[string]any) *statefulSet {
	t.Helper()
	var sts statefulSet
	rendered(t, helmTemplate(t, helm, values), "StatefulSet", &sts)
	return &sts
}

func (s *statefulSet) container(t *testing.T) *chartContainer {
	t.Helper()
	if n := len(s.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("the StatefulSet has %d containers, want 1", n)
	}
	return &s.Spec.Template.Spec.Containers[0]
}

// environment resolves the container's env as the kubelet would for pod:
// metadata.name from the downward API, $(VAR) of earlier variables.
func (c *chartContainer) environment(t *testing.T, pod string) map[string]string {
	t.Helper()
	env := make(map[string]string)
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = ref.ReplaceAllStringFunc(e.Value, func(m string) string {
				if v, ok := env[m[2:len(m)-1]]; ok {
					return v
				}
				return m
			})
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = pod
		default:
			t.Fatalf("env %s: a valueFrom the test cannot resolve", e.Name)
		}
	}
	return env
}

// port resolves a probe's port, a number or the name of a container port.
func (c *chartContainer) port(t *testing.T, p probe) int {
	t.Helper()
	switch v := p.HTTPGet.Port.(type) {
	case int:
		return v
	case string:
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort
			}
		}
	}
	t.Fatalf("probe port %v is not a container port", p.HTTPGet.Port)
	return 0
}

// processUID reads the real uid of a host process.
func processUID(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the container process's status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

func awaitStatusOr(t *testing.T, url string, want int, timeout time.Duration, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := get(t, url)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %q after %s, want %d; container log:\n%s", url, code, body, timeout, want, logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// loggedStopped says whether the JSON log has the processor's final
// "stopped" line without an error.
func loggedStopped(log string) bool {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg   string `json:"msg"`
			Error any    `json:"error"`
		}
		line := sc.Text()
		if i := strings.IndexByte(line, '{'); i >= 0 && json.Unmarshal([]byte(line[i:]), &l) == nil && l.Msg == "stopped" && l.Error == nil {
			return true
		}
	}
	return false
}

// exposedMetrics returns the sample names of a Prometheus text exposition.
func exposedMetrics(body string) map[string]bool {
	names := make(map[string]bool)
	for _, l := range strings.Split(body, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		if i := strings.IndexAny(l, "{ "); i > 0 {
			names[l[:i]] = true
		}
	}
	return names
}

// checkMetricsUsed renders the chart's dashboard and rules and checks that
// each metric they query is exposed (or is one of externalMetrics).
func checkMetricsUsed(t *testing.T, helm string, exposed map[string]bool) {
	t.Helper()
	docs := helmTemplate(t, helm, nil, "grafanaDashboard.enabled=true", "prometheusRule.enabled=true")
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	rendered(t, docs, "ConfigMap", &cm)
	var exprs []string
	for name, js := range cm.Data {
		var dash any
		if err := json.Unmarshal([]byte(js), &dash); err != nil {
			t.Fatalf("the dashboard %s is not JSON: %v", name, err)
		}
		exprs = append(exprs, dashboardQueries(dash)...)
	}
	dashboardQueries := len(exprs)
	for _, g := range renderRulesFrom(t, docs) {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	if dashboardQueries < 8 || len(exprs)-dashboardQueries < 6 {
		t.Fatalf("found %d dashboard queries and %d rules; the dashboard has at least 8 and the rules 6", dashboardQueries, len(exprs)-dashboardQueries)
	}
	used := make(map[string]bool)
	for _, e := range exprs {
		for _, m := range promQLMetricNames(e) {
			used[m] = true
		}
	}
	var missing []string
	for m := range used {
		if !exposed[m] && externalMetrics[m] == "" {
			missing = append(missing, m)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard or the rules use metrics the processor does not expose: %s", strings.Join(missing, ", "))
		return
	}
	t.Logf("%d metric names in %d dashboard queries and %d rules, all exposed or external", len(used), dashboardQueries, len(exprs)-dashboardQueries)
}

// dashboardQueries returns every "expr" and variable "definition" in a
// Grafana dashboard.
func dashboardQueries(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
				out = append(out, s)
			} else {
				out = append(out, dashboardQueries(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, dashboardQueries(x)...)
		}
	}
	return out
}

type rule struct {
	Expr string `yaml:"expr"`
}

type renderedGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

func renderRulesFrom(t *testing.T, docs []*yaml.Node) []renderedGroup {
	t.Helper()
	var pr struct {
		Spec struct {
			Groups []renderedGroup `yaml:"groups"`
		} `yaml:"spec"`
	}
	rendered(t, docs, "PrometheusRule", &pr)
	return pr.Spec.Groups
}

// renderRules returns the PrometheusRule's groups as they are, for promtool.
func renderRules(t *testing.T, helm string) any {
	t.Helper()
	var pr struct {
		Spec struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
	}
	rendered(t, helmTemplate(t, helm, nil, "prometheusRule.enabled=true"), "PrometheusRule", &pr)
	return pr.Spec.Groups
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promLabelVal = regexp.MustCompile(`\blabel_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*)?\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true}
)

// promQLMetricNames returns the metric names a PromQL expression (or a
// Grafana label_values query) selects, in order of first use: identifiers
// that are not functions, keywords, label names or inside strings.
func promQLMetricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	s = promLabelVal.ReplaceAllString(s, "$1")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.' || s[loc[0]-1] == '$') {
			continue // part of a number or a variable
		}
		if promKeywords[name] || strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") {
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}
