package connect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/event-processor/event-processor/internal/connect/conntest"
	"github.com/event-processor/event-processor/internal/syncbuf"
)

const testPassword = "pa55-w0rd-never-printed"

// files makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, written to a temporary directory.
type files struct {
	dir                string
	ca                 *conntest.CA
	caFile             string
	server             *conntest.Leaf
	certFile, keyFile  string
	passFile, tokenFil string
}

func newFiles(t *testing.T) *files {
	t.Helper()
	dir := t.TempDir()
	ca, err := conntest.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Issue("broker", conntest.Options{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue("alice", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &files{dir: dir, ca: ca, caFile: filepath.Join(dir, "ca.crt"), server: server,
		passFile: filepath.Join(dir, "password"), tokenFil: filepath.Join(dir, "token")}
	if err := conntest.WriteFile(f.caFile, ca.PEM); err != nil {
		t.Fatal(err)
	}
	if f.certFile, f.keyFile, err = client.Write(dir, "user"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.passFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.tokenFil, []byte(conntest.UnsecuredToken("alice", time.Hour)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *files) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateNamesTheFlag(t *testing.T) {
	f := newFiles(t)
	garbage := f.write(t, "garbage.pem", []byte("not a pem file"))
	other, err := f.ca.Issue("bob", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := f.write(t, "other.key", other.KeyPEM)
	empty := f.write(t, "empty", nil)
	missing := filepath.Join(f.dir, "missing.pem")
	tests := []struct {
		o    Options
		want string
	}{
		{Options{KeyFile: f.keyFile}, "--tls-key-file: is set but --tls-cert-file is not"},
		{Options{CertFile: f.certFile}, "--tls-cert-file: is set but --tls-key-file is not"},
		{Options{CAFile: missing}, "--tls-ca-file: " + missing + ": cannot read the CA file: no such file or directory"},
		{Options{CAFile: garbage}, "--tls-ca-file: " + garbage + ": holds no PEM certificate"},
		{Options{CertFile: garbage, KeyFile: f.keyFile}, "--tls-cert-file: " + garbage + ": holds no PEM certificate"},
		{Options{CertFile: f.certFile, KeyFile: garbage}, "--tls-key-file: " + garbage + ": holds no PEM private key"},
		{Options{CertFile: f.certFile, KeyFile: otherKey}, "--tls-cert-file: " + f.certFile + ": does not make a certificate and key pair with " + otherKey},
		{Options{CertFile: f.certFile, KeyFile: missing}, "--tls-key-file: " + missing + ": cannot read the key file"},
		{Options{SASLMechanism: "SCRAM-SHA-512", Password: testPassword}, "--sasl-username: SCRAM-SHA-512 needs a user name"},
		{Options{SASLMechanism: "PLAIN", Username: "alice"}, "--sasl-password-file: PLAIN needs a password: set KAFKA_SASL_PASSWORD or --sasl-password-file"},
		{Options{SASLMechanism: "PLAIN", Username: "alice", Password: testPassword, PasswordFile: f.passFile}, "--sasl-password-file: and KAFKA_SASL_PASSWORD are both set"},
		{Options{SASLMechanism: "SCRAM-SHA-256", Username: "alice", PasswordFile: missing}, "--sasl-password-file: " + missing + ": cannot read the password file"},
		{Options{SASLMechanism: "SCRAM-SHA-256", Username: "alice", PasswordFile: empty}, "--sasl-password-file: " + empty + ": the password file is empty"},
		{Options{SASLMechanism: "OAUTHBEARER"}, "--sasl-mechanism: OAUTHBEARER needs --sasl-token-file"},
		{Options{SASLMechanism: "OAUTHBEARER", TokenFile: f.tokenFil, Username: "alice"}, "--sasl-mechanism: OAUTHBEARER takes a token"},
		{Options{SASLMechanism: "OAUTHBEARER", TokenFile: empty}, "--sasl-token-file: " + empty + ": the token file is empty"},
		{Options{SASLMechanism: "PLAIN", Username: "a", Password: "p", TokenFile: f.tokenFil}, "--sasl-token-file: is for OAUTHBEARER"},
		{Options{Username: "alice"}, "--sasl-username: is set but --sasl-mechanism is not"},
		{Options{Password: testPassword}, "KAFKA_SASL_PASSWORD is set but --sasl-mechanism is not"},
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tt.o, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), testPassword) {
			t.Errorf("%+v: error %q shows the password", tt.o, err)
		}
	}
	for _, o := range []Options{
		{},
		{TLS: true},
		{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile},
		{TLS: true, SASLMechanism: "SCRAM-SHA-512", Username: "alice", PasswordFile: f.passFile},
		{SASLMechanism: "PLAIN", Username: "alice", Password: testPassword},
		{TLS: true, SASLMechanism: "OAUTHBEARER", TokenFile: f.tokenFil},
	} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestFlagsBeatEnvBeatDefaults(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Bind(fs)
	if err := fs.Parse([]string{"--sasl-mechanism", "scram-sha-512", "--tls"}); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	env := map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "alice", PasswordEnv: testPassword, "KAFKA_TLS_CA_FILE": "/ca.crt"}
	if err := o.ApplyEnv(func(n string) bool { return set[n] }, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if o.SASLMechanism != "SCRAM-SHA-512" || o.Username != "alice" || o.Password.Reveal() != testPassword || !o.TLS || o.CAFile != "/ca.crt" {
		t.Errorf("got %+v", o)
	}
	if err := fs.Parse([]string{"--sasl-mechanism", "GSSAPI"}); err == nil || !strings.Contains(err.Error(), `"GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER`) {
		t.Errorf("--sasl-mechanism GSSAPI: %v", err)
	}
	err := o.ApplyEnv(nil, func(k string) (string, bool) { return "maybe", k == "KAFKA_TLS" })
	if err == nil || !strings.Contains(err.Error(), "environment variable KAFKA_TLS (twin of --tls): \"maybe\" is not true or false") {
		t.Errorf("KAFKA_TLS=maybe: %v", err)
	}
}

func TestNoFlagTakesASecret(t *testing.T) {
	for _, f := range Flags {
		if strings.Contains(f.Name, "password") && f.Name != "sasl-password-file" || strings.Contains(f.Name, "token") && f.Name != "sasl-token-file" {
			t.Errorf("--%s looks like it takes a secret on the command line", f.Name)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	o := Options{SASLMechanism: "PLAIN", Username: "alice", Password: testPassword}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "opts", o, "password", o.Password)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "opts", o, "password", o.Password)
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprintf("%s", o.Password), buf.String(), o.Summary()} {
		if strings.Contains(s, testPassword) {
			t.Errorf("the password shows in %q", s)
		}
	}
	if got := o.Summary(); got != "plaintext, sasl PLAIN as alice" {
		t.Errorf("Summary = %q", got)
	}
}

// tlsServer accepts TLS connections on 127.0.0.1, requiring a client
// certificate signed by clientCA when it is set, and records the serial
// numbers of the client certificates it saw.
type tlsServer struct {
	ln      net.Listener
	mu      sync.Mutex
	serials []string
}

func newTLSServer(t *testing.T, f *files, clientCA *conntest.CA) *tlsServer {
	t.Helper()
	pair, err := tls.X509KeyPair(f.server.CertPEM, f.server.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.Cert)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					return
				}
				if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
					s.mu.Lock()
					s.serials = append(s.serials, certs[0].SerialNumber.String())
					s.mu.Unlock()
				}
				tc.Write([]byte("ok"))
			}()
		}
	}()
	return s
}

func (s *tlsServer) lastSerial() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.serials) == 0 {
		return ""
	}
	return s.serials[len(s.serials)-1]
}

// roundTrip dials and reads the server's "ok".
func roundTrip(d *tlsDialer, addr string) error {
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 2)
	_, err = io.ReadFull(c, b)
	return err
}

func testLogger(buf *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

func TestMTLSDialAndRotation(t *testing.T) {
	f := newFiles(t)
	srv := newTLSServer(t, f, f.ca)
	var logs syncBuffer
	o := Options{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile}
	d := newTLSDialer(o, testLogger(&logs))
	if err := roundTrip(d, srv.ln.Addr().String()); err != nil {
		t.Fatalf("mTLS dial: %v", err)
	}
	first := srv.lastSerial()

	// A rotation caught half-written (the new certificate, the old key)
	// keeps the previous pair and warns.
	next, err := f.ca.Issue("alice", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := conntest.WriteFile(f.certFile, next.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(d, srv.ln.Addr().String()); err != nil {
		t.Fatalf("dial during a half-written rotation: %v", err)
	}
	if got := srv.lastSerial(); got != first {
		t.Errorf("during a half-written rotation the server saw serial %s, want the previous %s", got, first)
	}
	if !strings.Contains(logs.String(), "a TLS file changed but cannot be used") {
		t.Errorf("no warning about the half-written rotation:\n%s", logs.String())
	}
	// The key arrives: the next connection uses the new pair.
	if err := conntest.WriteFile(f.keyFile, next.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(d, srv.ln.Addr().String()); err != nil {
		t.Fatalf("dial after the rotation: %v", err)
	}
	if got, want := srv.lastSerial(), next.Cert.SerialNumber.String(); got != want {
		t.Errorf("after the rotation the server saw serial %s, want %s", got, want)
	}
	if !strings.Contains(logs.String(), "TLS files changed: new connections use them") {
		t.Errorf("the rotation is not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Errorf("the log shows a key:\n%s", logs.String())
	}
}

func TestDialErrorsSayWhatToCheck(t *testing.T) {
	f := newFiles(t)
	srv := newTLSServer(t, f, f.ca)
	otherCA, err := conntest.NewCA("other-ca")
	if err != nil {
		t.Fatal(err)
	}
	otherCAFile := f.write(t, "other-ca.crt", otherCA.PEM)
	expired, err := f.ca.Issue("alice", conntest.Options{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expiredCert, expiredKey, err := expired.Write(f.dir, "expired")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := otherCA.Issue("mallory", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, strangerKey, err := stranger.Write(f.dir, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("\x00\x00\x00\x10not tls at all.."))
			c.Close()
		}
	}()

	tests := []struct {
		name string
		o    Options
		addr string
		want []string
	}{
		{"untrusted CA", Options{CAFile: otherCAFile, CertFile: f.certFile, KeyFile: f.keyFile}, srv.ln.Addr().String(),
			[]string{"certificate signed by unknown authority", "not signed by a CA in --tls-ca-file " + otherCAFile}},
		{"expired client certificate", Options{CAFile: f.caFile, CertFile: expiredCert, KeyFile: expiredKey}, srv.ln.Addr().String(),
			[]string{"client certificate is not valid now: " + expiredCert, "expired at", "renew the client certificate"}},
		{"no client certificate", Options{CAFile: f.caFile}, srv.ln.Addr().String(),
			[]string{"remote error", "set --tls-cert-file and --tls-key-file"}},
		{"client certificate from another CA", Options{CAFile: f.caFile, CertFile: strangerCert, KeyFile: strangerKey}, srv.ln.Addr().String(),
			[]string{"remote error", "refused the TLS handshake or the client certificate from --tls-cert-file " + strangerCert}},
		{"wrong server name", Options{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile, ServerName: "kafka.example"}, srv.ln.Addr().String(),
			[]string{"wanted to match kafka.example", "--tls-server-name"}},
		{"plaintext port", Options{CAFile: f.caFile}, plain.Addr().String(),
			[]string{"does not look like a TLS handshake", "probably a plaintext listener"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			err := roundTrip(newTLSDialer(tt.o, testLogger(&logs)), tt.addr)
			if err == nil {
				t.Fatal("dial succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var de *DialError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DialError", err)
			}
		})
	}
}

func TestSkipVerifyWarnsAtStart(t *testing.T) {
	var logs syncBuffer
	opts, err := Options{InsecureSkipVerify: true}.ClientOpts(testLogger(&logs))
	if err != nil || len(opts) == 0 {
		t.Fatalf("opts %d, err %v", len(opts), err)
	}
	if !strings.Contains(logs.String(), "--tls-insecure-skip-verify is set") {
		t.Errorf("no warning:\n%s", logs.String())
	}
}

func TestTokenAndPasswordFilesAreReadAtEachAuthentication(t *testing.T) {
	f := newFiles(t)
	o := Options{SASLMechanism: "OAUTHBEARER", TokenFile: f.tokenFil}
	_, first, err := o.mechanism().Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	tok := conntest.UnsecuredToken("bob", time.Hour)
	if err := conntest.WriteFile(f.tokenFil, []byte(tok)); err != nil {
		t.Fatal(err)
	}
	_, second, err := o.mechanism().Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, second) || !bytes.Contains(second, []byte(tok)) {
		t.Errorf("the rotated token is not used")
	}
	o = Options{SASLMechanism: "PLAIN", Username: "alice", PasswordFile: f.passFile}
	_, msg, err := o.mechanism().Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x00alice\x00" + testPassword; string(msg) != want {
		t.Errorf("PLAIN message from the password file (newline trimmed) is not %q", "\\0alice\\0<password>")
	}
}

// syncBuffer is a log sink a test reads while it is written.
type syncBuffer = syncbuf.Buffer
