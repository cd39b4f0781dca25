package integration

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/event-processor/event-processor/examples"
	"github.com/event-processor/event-processor/internal/connect"
	"github.com/event-processor/event-processor/internal/connect/conntest"
	"github.com/event-processor/event-processor/processor"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSecure runs the processor against one secured, ACL'd broker
// (StartSecureBroker): exactly once over every SASL mechanism and mTLS
// with only the ACLs docs/security.md lists, a clear error and no progress
// without each of them, clear errors for bad credentials and certificates,
// a client certificate rotated mid-stream, and no secret in any log.
func TestSecure(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	sb, err := StartSecureBroker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("secured broker ready in %s", time.Since(start).Round(100*time.Millisecond))
	s := &secureSuite{sb: sb}
	s.secret(sb.AdminPassword)
	for _, p := range sb.PlainUsers {
		s.secret(p)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("secured broker log (tail):\n%s", tail(sb.Logs(context.Background()), 60))
		}
		sb.Terminate(context.Background())
	})

	t.Run("ExactlyOnce", s.testExactlyOnce)
	t.Run("MissingACL", s.testMissingACL)
	t.Run("BadCredentials", s.testBadCredentials)
	t.Run("CertificateRotation", s.testCertificateRotation)
	s.checkNoSecretLogged(t)
}

// secureSuite is what the subtests share: the broker, the secrets made so
// far and every log captured.
type secureSuite struct {
	sb *SecureBroker

	mu      sync.Mutex
	secrets []string
	logs    map[string]*lockedBuffer // by test name
}

// secret records s as something no log may contain.
func (s *secureSuite) secret(v string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, v)
	return v
}

// secretFile records a file's content (a key, a token, a password) as
// secret: the whole PEM body of a key, and each of its lines.
func (s *secureSuite) secretFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) > 16 {
			s.secret(line)
		}
	}
}

func (s *secureSuite) checkNoSecretLogged(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name, buf := range s.logs {
		logs := buf.String()
		n += len(logs)
		if strings.Contains(logs, "PRIVATE KEY") {
			t.Errorf("%s: the log shows a private key", name)
		}
		for _, sec := range s.secrets {
			if strings.Contains(logs, sec) {
				t.Errorf("%s: the log contains a secret (%d bytes, starting %.4q)", name, len(sec), sec)
			}
		}
	}
	t.Logf("checked %d logs (%d bytes) for %d secrets", len(s.logs), n, len(s.secrets))
}

// run is one processor started by a secure test, with its log captured.
type run struct {
	*instance
	log *lockedBuffer
	url string // the HTTP endpoints
}

// start runs a processor with cfg, logging at debug level into a buffer
// the suite checks for secrets; the log is shown if the test fails.
func (s *secureSuite) start(t *testing.T, p *pipeline, cfg processor.Config) *run {
	t.Helper()
	buf := &lockedBuffer{}
	s.mu.Lock()
	if s.logs == nil {
		s.logs = map[string]*lockedBuffer{}
	}
	s.logs[t.Name()+"/"+cfg.TransactionalID] = buf
	s.mu.Unlock()
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = freeAddr(t)
	}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", cfg.TransactionalID)
	proc, err := processor.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- proc.Run(ctx) }()
	t.Cleanup(func() {
		in.stop(t)
		if t.Failed() {
			t.Logf("log of %s (tail):\n%s", cfg.TransactionalID, tail(buf.String(), 40))
		}
	})
	return &run{instance: in, log: buf, url: "http://" + cfg.HTTPAddr}
}

// awaitLog waits until the run's log matches re.
func (r *run) awaitLog(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindString(r.log.String()); m != "" {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the log does not match %q within %s", re, timeout)
	return ""
}

// securePipeline makes a pipeline on the secured broker (topics created as
// the super user) and the processor config for principal's connection.
func (s *secureSuite) securePipeline(t *testing.T, addr string, conn connect.Options) (*pipeline, processor.Config) {
	t.Helper()
	p := newPipeline(t, s.sb.Broker, 3, nil)
	// The results are verified over SASL_SSL as the admin, as a secured
	// downstream consumer reads them.
	opts, err := s.sb.AdminConnect().ClientOpts(nil)
	if err != nil {
		t.Fatal(err)
	}
	p.verifyOpts = append([]kgo.Opt{kgo.SeedBrokers(s.sb.SASLAddr)}, opts...)
	cfg := p.config("a")
	cfg.Brokers = []string{addr}
	cfg.Connect = conn
	return p, cfg
}

// The ACLs the processor needs, as docs/security.md lists them. Each
// entry is one (resource, operations) pair, so a test can leave one out.
type aclEntry struct {
	name  string // as the docs name it
	build func(principal string, cfg processor.Config) *kadm.ACLBuilder
}

var processorACLs = []aclEntry{
	{"Read on the input topic", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).Topics(c.InputTopic).Operations(kadm.OpRead)
	}},
	{"DescribeConfigs on the three topics", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).Topics(c.InputTopic, c.OutputTopic, c.ErrorTopic).Operations(kadm.OpDescribeConfigs)
	}},
	{"Write on the output topic", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).Topics(c.OutputTopic).Operations(kadm.OpWrite)
	}},
	{"Write on the error topic", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).Topics(c.ErrorTopic).Operations(kadm.OpWrite)
	}},
	{"Read on the group", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).Groups(c.Group).Operations(kadm.OpRead)
	}},
	{"Write on the transactional id", func(pr string, c processor.Config) *kadm.ACLBuilder {
		return kadm.NewACLs().Allow(pr).TransactionalIDs(c.TransactionalID).Operations(kadm.OpWrite, kadm.OpDescribe)
	}},
}

// grant gives principal the processor's ACLs for cfg, all but those named
// in except.
func (s *secureSuite) grant(t *testing.T, principal string, cfg processor.Config, except ...string) {
	t.Helper()
	for _, a := range processorACLs {
		if slicesContains(except, a.name) {
			continue
		}
		if err := s.sb.Grant(t.Context(), a.build(principal, cfg)); err != nil {
			t.Fatal(err)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// connection is one way of connecting as a principal the test makes.
type connection struct {
	name      string
	addr      string
	principal string
	conn      connect.Options
}

// newSCRAM makes a SCRAM user with a password file.
func (s *secureSuite) newSCRAM(t *testing.T, user string, mech kadm.ScramMechanism) connection {
	t.Helper()
	pass := s.secret(randomSecret())
	if err := s.sb.AddSCRAMUser(t.Context(), user, pass, mech); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte(pass), 0o600); err != nil {
		t.Fatal(err)
	}
	return connection{mech.String(), s.sb.SASLAddr, "User:" + user,
		connect.Options{CAFile: s.sb.CAFile, SASLMechanism: mech.String(), Username: user, PasswordFile: file}}
}

// newMTLS makes a client certificate for CN=cn.
func (s *secureSuite) newMTLS(t *testing.T, addr, cn string, o conntest.Options) connection {
	t.Helper()
	certFile, keyFile, err := s.sb.IssueClient(t.TempDir(), "user", cn, o)
	if err != nil {
		t.Fatal(err)
	}
	s.secretFile(t, keyFile)
	return connection{"mTLS", addr, "User:CN=" + cn, connect.Options{CAFile: s.sb.CAFile, CertFile: certFile, KeyFile: keyFile}}
}

// newOAuth makes an unsecured OAUTHBEARER token for subject sub.
func (s *secureSuite) newOAuth(t *testing.T, sub string) connection {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(s.secret(conntest.UnsecuredToken(sub, time.Hour))), 0o600); err != nil {
		t.Fatal(err)
	}
	return connection{"OAUTHBEARER", s.sb.SASLAddr, "User:" + sub, connect.Options{CAFile: s.sb.CAFile, SASLMechanism: connect.MechanismOAuthBearer, TokenFile: file}}
}

// newPlain connects as a PLAIN user of the broker's JAAS config, with the
// password in KAFKA_SASL_PASSWORD's place (Options.Password).
func (s *secureSuite) newPlain(user string) connection {
	return connection{"PLAIN", s.sb.SASLAddr, "User:" + user, connect.Options{CAFile: s.sb.CAFile, SASLMechanism: connect.MechanismPlain,
		Username: user, Password: connect.Secret(s.sb.PlainUsers[user])}}
}

// testExactlyOnce: a mixed batch, exactly once, over each mechanism and
// mTLS, each principal holding only the documented ACLs.
func (s *secureSuite) testExactlyOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(t *testing.T) connection // in the subtest: its files in its temp dir
	}{
		{"PLAIN", func(t *testing.T) connection { return s.newPlain("plain-proc") }},
		{"SCRAM-SHA-256", func(t *testing.T) connection { return s.newSCRAM(t, "scram256-proc", kadm.ScramSha256) }},
		{"SCRAM-SHA-512", func(t *testing.T) connection { return s.newSCRAM(t, "scram512-proc", kadm.ScramSha512) }},
		{"OAUTHBEARER", func(t *testing.T) connection { return s.newOAuth(t, "oauth-proc") }},
		{"mTLS", func(t *testing.T) connection { return s.newMTLS(t, s.sb.MTLSAddr, "mtls-proc", conntest.Options{}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := c.make(t)
			t.Logf("connecting with %s as %s", conn.name, conn.principal)
			p, cfg := s.securePipeline(t, conn.addr, conn.conn)
			s.grant(t, conn.principal, cfg)
			inputs := p.produce(t, examples.Mixed(1000, 21))
			s.start(t, p, cfg)
			outputs, errors := p.checkExactlyOnce(t, inputs, time.Minute)
			if outputs != 900 || errors != 100 {
				t.Errorf("%s: got %d outputs and %d errors, want 900 and 100", conn.name, outputs, errors)
			}
		})
	}
}

// testMissingACL leaves out each ACL in turn: the processor says which
// permission is missing, is not ready, does not spin and consumes
// nothing.
func (s *secureSuite) testMissingACL(t *testing.T) {
	for i, a := range processorACLs {
		t.Run(strings.ReplaceAll(a.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			conn := s.newSCRAM(t, "acl-"+strconv.Itoa(i), kadm.ScramSha512)
			p, cfg := s.securePipeline(t, conn.addr, conn.conn)
			s.grant(t, conn.principal, cfg, a.name)
			p.produce(t, examples.Mixed(200, 22))
			r := s.start(t, p, cfg)
			// What the log says (structured) and /readyz (the error).
			type says struct{ resource, name, op string }
			w := map[string]says{
				"Read on the input topic":       {"topic", cfg.InputTopic, "Read"},
				"Write on the output topic":     {"topic", cfg.OutputTopic, "Write"},
				"Write on the error topic":      {"topic", cfg.ErrorTopic, "Write"},
				"Read on the group":             {"group", cfg.Group, "Read"},
				"Write on the transactional id": {"transactional-id", cfg.TransactionalID, "Write"},
			}[a.name]
			logRE := regexp.MustCompile(`msg="not authorized: .*resource=` + w.resource + ` name=` + regexp.QuoteMeta(w.name) + ` operation=` + w.op + ` `)
			ready := `not authorized: ` + w.op + ` on ` + w.resource + ` "` + w.name + `" is missing`
			if a.name == "DescribeConfigs on the three topics" {
				// Refused before the loop starts: the start-up check
				// reads the topics' configs (max.message.bytes).
				logRE = regexp.MustCompile(`msg="not ready: retrying" .*error="not authorized: DescribeConfigs on the topics ` + regexp.QuoteMeta(cfg.InputTopic) + `, `)
				ready = `not authorized: DescribeConfigs on the topics ` + cfg.InputTopic + `, `
			}
			r.awaitLog(t, logRE, 30*time.Second)
			before := r.failures(t)
			// /readyz is 503 throughout and names the permission every
			// time it is asked, without flapping to another reason.
			for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				code, body := get(t, r.url+"/readyz")
				if code != http.StatusServiceUnavailable {
					t.Fatalf("/readyz = %d %q without %s, want 503", code, body, a.name)
				}
				if !strings.Contains(body, ready) {
					t.Fatalf("/readyz = %q without %s, want it to say %q", body, a.name, ready)
				}
			}
			if n := r.failures(t) - before; n > 30 {
				t.Errorf("%d authorization failures or retries in 4s: the processor spins", n)
			}
			if n := p.committed(t); n != 0 {
				t.Errorf("the group committed %d offsets without %s", n, a.name)
			}
			// Stopped, it aborts what it had open, so that a
			// read_committed reader reaches the end.
			r.stop(t)
			for _, res := range p.readResults(t) {
				t.Errorf("a result on %s without %s", res.topic, a.name)
				break
			}
		})
	}
}

// failures is how often the processor has failed for want of a permission
// or a connection: the authorization failures counter plus the start-up
// retries logged.
func (r *run) failures(t *testing.T) int {
	t.Helper()
	n := strings.Count(r.log.String(), "not ready: retrying")
	_, body := get(t, r.url+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "event_processor_authorization_failures_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}

// testBadCredentials: each a clear error naming the cause, not ready,
// bounded retries, and nothing lost once the credentials are fixed.
func (s *secureSuite) testBadCredentials(t *testing.T) {
	cases := []struct {
		name string
		bad  func(t *testing.T, good connection) connection
		want string
	}{
		{"wrong password", func(t *testing.T, good connection) connection {
			file := filepath.Join(t.TempDir(), "wrong")
			os.WriteFile(file, []byte(s.secret(randomSecret())), 0o600)
			good.conn.PasswordFile = file
			return good
		}, `SASL_AUTHENTICATION_FAILED.*Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512`},
		{"untrusted CA", func(t *testing.T, good connection) connection {
			other, err := conntest.NewCA("someone-else")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "ca.crt")
			os.WriteFile(file, other.PEM, 0o644)
			good.conn.CAFile = file
			return good
		}, `certificate signed by unknown authority: the broker's certificate is not signed by a CA in --tls-ca-file`},
		{"expired client certificate", func(t *testing.T, good connection) connection {
			return s.newMTLS(t, s.sb.MTLSAddr, "expired-proc", conntest.Options{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
		}, `client certificate is not valid now: .*expired at .*renew the client certificate`},
		{"plaintext client on a TLS port", func(t *testing.T, good connection) connection {
			good.conn = connect.Options{}
			return good
		}, `is this a plaintext connection speaking to a tls endpoint\?`},
	}
	for i, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			good := s.newSCRAM(t, "cred-"+strconv.Itoa(i), kadm.ScramSha512)
			bad := tc.bad(t, good)
			p, cfg := s.securePipeline(t, bad.addr, bad.conn)
			s.grant(t, good.principal, cfg)
			if bad.principal != good.principal {
				s.grant(t, bad.principal, cfg)
			}
			inputs := p.produce(t, examples.Mixed(300, 23))
			r := s.start(t, p, cfg)
			r.awaitLog(t, regexp.MustCompile(tc.want), 30*time.Second)
			before := r.failures(t)
			time.Sleep(4 * time.Second)
			if n := r.failures(t) - before; n > 10 {
				t.Errorf("%d retries in 4s: want a backoff", n)
			}
			if code, body := get(t, r.url+"/readyz"); code != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d %q, want 503", code, body)
			}
			if n := p.committed(t); n != 0 {
				t.Errorf("committed %d offsets with bad credentials", n)
			}
			r.stop(t)
			// Fixed, the same group processes everything exactly once.
			cfg.Connect, cfg.Brokers = good.conn, []string{good.addr}
			s.start(t, p, cfg)
			p.checkExactlyOnce(t, inputs, time.Minute)
		})
	}
}

// testCertificateRotation replaces the client certificate and key on disk
// while the processor runs; once its connections drop, it dials again with
// the new pair (whose principal alone keeps the ACLs), without a restart.
func (s *secureSuite) testCertificateRotation(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, err := s.sb.IssueClient(dir, "user", "rotate-old", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.secretFile(t, keyFile)
	conn := connect.Options{CAFile: s.sb.CAFile, CertFile: certFile, KeyFile: keyFile}
	p, cfg := s.securePipeline(t, s.sb.RotateAddr, conn)
	s.grant(t, "User:CN=rotate-old", cfg)
	s.grant(t, "User:CN=rotate-new", cfg)
	events := examples.Mixed(3000, 24)
	inputs := p.produce(t, events[:500])
	feed := p.feed(t, events[500:], 50, 50*time.Millisecond)
	r := s.start(t, p, cfg)
	p.awaitCommitted(t, 500, time.Minute)

	next, err := s.sb.CA.Issue("rotate-new", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// As a Kubernetes secret volume updates: each file replaced whole.
	if err := conntest.WriteFile(certFile, next.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := conntest.WriteFile(keyFile, next.KeyPEM); err != nil {
		t.Fatal(err)
	}
	s.secretFile(t, keyFile)
	// The old principal loses its ACLs: from here only the new
	// certificate can make progress.
	adm := admin(t, s.sb.Broker)
	if _, err := adm.DeleteACLs(t.Context(), kadm.NewACLs().Allow("User:CN=rotate-old").AllowHosts().AnyResource().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny)); err != nil {
		t.Fatal(err)
	}
	dropped := s.sb.ResetRotateConns()
	t.Logf("rotated the certificate and dropped %d connections", dropped)
	r.awaitLog(t, regexp.MustCompile(`TLS files changed: new connections use them.*subject="?CN=rotate-new`), 30*time.Second)
	p.awaitCommitted(t, p.committed(t)+500, time.Minute)
	inputs = mergeInputs(inputs, feed.stop(t))
	p.checkExactlyOnce(t, inputs, time.Minute)
	if strings.Contains(r.log.String(), "stopped") {
		t.Errorf("the processor stopped during the rotation")
	}
}

func mergeInputs(a, b map[srcPos][]byte) map[srcPos][]byte {
	for k, v := range b {
		a[k] = v
	}
	return a
}
