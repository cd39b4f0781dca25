package connect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// tlsDialer dials brokers over TLS with a tls.Config built for each
// connection from the files as they are now: a rotated CA bundle or client
// certificate is used by the next connection, without a restart.
type tlsDialer struct {
	o       Options
	log     *slog.Logger
	timeout time.Duration
	ca      *fileCache[*x509.CertPool]   // nil: the system roots
	pair    *fileCache[*tls.Certificate] // nil: no client certificate
}

func newTLSDialer(o Options, log *slog.Logger) *tlsDialer {
	d := &tlsDialer{o: o, log: log, timeout: o.DialTimeout}
	if d.timeout == 0 {
		d.timeout = DefaultDialTimeout
	}
	if o.CAFile != "" {
		d.ca = newFileCache(log, "--tls-ca-file", []string{o.CAFile}, func(b [][]byte) (*x509.CertPool, error) {
			return parseCA(o.CAFile, b[0])
		})
	}
	if o.CertFile != "" {
		d.pair = newFileCache(log, "--tls-cert-file", []string{o.CertFile, o.KeyFile}, func(b [][]byte) (*tls.Certificate, error) {
			return parsePair(o.CertFile, o.KeyFile, b[0], b[1])
		})
	}
	return d
}

// DialContext has the signature kgo.Dialer wants.
func (d *tlsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: d.o.ServerName, InsecureSkipVerify: d.o.InsecureSkipVerify}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	if d.ca != nil {
		cfg.RootCAs = d.ca.current()
	}
	var cert *tls.Certificate
	if d.pair != nil {
		cert = d.pair.current()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if err := checkValidity(d.o.CertFile, cert.Leaf, time.Now()); err != nil {
				return nil, err
			}
			return cert, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, d.explain(addr, err)
	}
	return &explainConn{Conn: conn, d: d, addr: addr}, nil
}

// DialError is a TLS connection to a broker that failed, with what is
// probably misconfigured.
type DialError struct {
	Addr string
	Hint string // what to check; may be empty
	Err  error
}

func (e *DialError) Error() string {
	if e.Hint == "" {
		return fmt.Sprintf("TLS connection to %s: %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("TLS connection to %s: %v: %s", e.Addr, e.Err, e.Hint)
}

func (e *DialError) Unwrap() error { return e.Err }

// ErrCertificateExpired is the client certificate being past its NotAfter
// (or before its NotBefore): the broker would refuse it, so it is not sent.
var ErrCertificateExpired = errors.New("client certificate is not valid now")

// explain wraps a TLS dial or read error with what to check.
func (d *tlsDialer) explain(addr string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		header   tls.RecordHeaderError
		op       *net.OpError
	)
	roots := "the system roots (set --tls-ca-file to the CA that signs the brokers' certificates; for Strimzi the cluster CA secret <cluster>-cluster-ca-cert, key ca.crt)"
	if d.o.CAFile != "" {
		roots = "--tls-ca-file " + d.o.CAFile + " (for Strimzi: the cluster CA secret <cluster>-cluster-ca-cert, key ca.crt, not the user secret's ca.crt)"
	}
	hint := ""
	switch {
	case errors.Is(err, ErrCertificateExpired):
		hint = "renew the client certificate; the new file is used by the next connection, no restart needed"
	case errors.As(err, &unknown):
		hint = "the broker's certificate is not signed by a CA in " + roots
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		hint = "the broker's certificate has expired or is not yet valid (or this machine's clock is wrong)"
	case errors.As(err, &invalid):
		hint = "the broker's certificate is not valid for a TLS server"
	case errors.As(err, &hostname):
		hint = "the broker's certificate is not valid for the address dialled; set --tls-server-name to a name it is valid for, or advertise a name it carries"
	case errors.As(err, &header):
		hint = "the broker did not answer in TLS: this is probably a plaintext listener; connect to its TLS port, or drop --tls"
	case errors.As(err, &op) && op.Op == "remote error":
		if d.pair == nil {
			hint = "the broker refused the TLS handshake; if its listener requires client certificates (ssl.client.auth=required), set --tls-cert-file and --tls-key-file"
		} else {
			hint = "the broker refused the TLS handshake or the client certificate from --tls-cert-file " + d.o.CertFile +
				": check that it is signed by a CA the broker trusts (ssl.truststore) and is valid now"
		}
	}
	return &DialError{Addr: addr, Hint: hint, Err: err}
}

// explainConn adds the hint to an alert the broker sends after the
// handshake: under TLS 1.3 a refused client certificate is reported on the
// first read, not by the handshake.
type explainConn struct {
	net.Conn
	d    *tlsDialer
	addr string
}

func (c *explainConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var op *net.OpError
	if err != nil && errors.As(err, &op) && op.Op == "remote error" {
		err = c.d.explain(c.addr, err)
	}
	return n, err
}

// checkValidity refuses a certificate outside its validity period, naming
// the file and the dates.
func checkValidity(file string, leaf *x509.Certificate, now time.Time) error {
	if leaf == nil {
		return nil
	}
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("%w: %s (subject %q) expired at %s", ErrCertificateExpired, file, leaf.Subject.String(), leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("%w: %s (subject %q) is not valid before %s", ErrCertificateExpired, file, leaf.Subject.String(), leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// fileCache holds what was parsed from some files, and parses them again
// when their content changes. A change that does not parse (a rotation
// caught half-written) keeps the previous value, with a warning.
type fileCache[T any] struct {
	log   *slog.Logger
	flag  string
	files []string
	parse func([][]byte) (T, error)

	mu     sync.Mutex
	raw    [][]byte
	val    T
	warned [][]byte // the content last warned about, to warn once per change
}

func newFileCache[T any](log *slog.Logger, flag string, files []string, parse func([][]byte) (T, error)) *fileCache[T] {
	c := &fileCache[T]{log: log, flag: flag, files: files, parse: parse}
	c.current()
	return c
}

// current returns the value for the files' content now.
func (c *fileCache[T]) current() T {
	c.mu.Lock()
	defer c.mu.Unlock()
	raw := make([][]byte, len(c.files))
	var readErr error
	for i, f := range c.files {
		if raw[i], readErr = readFile(f, "file"); readErr != nil {
			break
		}
	}
	if readErr == nil && equalAll(raw, c.raw) {
		return c.val
	}
	var err error
	var v T
	if readErr != nil {
		err = readErr
	} else {
		v, err = c.parse(raw)
	}
	if err != nil {
		if !equalAll(raw, c.warned) {
			c.warned = raw
			c.log.Warn("a TLS file changed but cannot be used; keeping the previous one until it can", "flag", c.flag, "err", err)
		}
		return c.val
	}
	first := c.raw == nil
	c.raw, c.val, c.warned = raw, v, nil
	if !first {
		attrs := []any{"flag", c.flag, "files", c.files}
		if cert, ok := any(v).(*tls.Certificate); ok && cert.Leaf != nil {
			attrs = append(attrs, "subject", cert.Leaf.Subject.String(), "serial", cert.Leaf.SerialNumber.String(),
				"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		c.log.Info("TLS files changed: new connections use them", attrs...)
	}
	return v
}

func equalAll(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// loadCA reads and parses a CA bundle.
func loadCA(file string) (*x509.CertPool, error) {
	b, err := readFile(file, "CA file")
	if err != nil {
		return nil, err
	}
	return parseCA(file, b)
}

func parseCA(file string, b []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &fileError{file: file, what: "a CERTIFICATE block does not parse", err: err}
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, &fileError{file: file, what: "holds no PEM certificate (want -----BEGIN CERTIFICATE-----)"}
	}
	return pool, nil
}

// loadPair reads and parses a client certificate and its key.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := readFile(certFile, "certificate file")
	if err != nil {
		return nil, err
	}
	k, err := readFile(keyFile, "key file")
	if err != nil {
		return nil, err
	}
	return parsePair(certFile, keyFile, c, k)
}

// parsePair parses a certificate and key. Its errors name the file at
// fault and never quote the key.
func parsePair(certFile, keyFile string, c, k []byte) (*tls.Certificate, error) {
	if !hasBlock(c, func(t string) bool { return t == "CERTIFICATE" }) {
		return nil, &fileError{file: certFile, what: "holds no PEM certificate (want -----BEGIN CERTIFICATE-----)"}
	}
	if !hasBlock(k, func(t string) bool { return t == "PRIVATE KEY" || t == "RSA PRIVATE KEY" || t == "EC PRIVATE KEY" }) {
		return nil, &fileError{file: keyFile, what: "holds no PEM private key (want -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)"}
	}
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		return nil, &fileError{file: certFile, what: "does not make a certificate and key pair with " + keyFile, err: err}
	}
	return &pair, nil
}

func hasBlock(b []byte, want func(string) bool) bool {
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if want(block.Type) {
			return true
		}
	}
}
