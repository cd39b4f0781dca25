package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunBadFlagsExit2 checks that every misuse found by the bad-input
// trial is refused at start-up with status 2 and a message naming the flag,
// before anything is dialled.
func TestRunBadFlagsExit2(t *testing.T) {
	t.Setenv("KAFKA_BOOTSTRAP_SERVERS", "")
	b := []string{"--kafka-bootstrap-servers", "127.0.0.1:1", "--http-addr", ""}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--session-timeout", "2s"}, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--session-timeout", "1000h"}, "--session-timeout: must be between 6s and 30m"},
		{[]string{"--consumer-group", strings.Repeat("g", 40000)}, "--consumer-group: is 40000 bytes, at most 16382"},
		{[]string{"--transactional-id", strings.Repeat("t", 40000)}, "--transactional-id: is 40000 bytes, at most 16382"},
		{[]string{"--http-addr", "127.0.0.1:99999"}, `--http-addr: "127.0.0.1:99999" has port "99999"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := dispatch(append(append([]string{"run"}, b...), tt.args...), strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%.60q: exit %d, stderr %.300s; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestDemoValidatesHTTPAddrFirst checks that the demo refuses a bad
// --http-addr before it produces anything.
func TestDemoValidatesHTTPAddrFirst(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"demo", "--http-addr", "127.0.0.1:99999"}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `--http-addr: "127.0.0.1:99999" has port "99999"`) {
		t.Errorf("exit %d, stderr %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("the demo printed before refusing the flag:\n%s", stdout.String())
	}
}

// TestRunBadConnectionOptionsExit2 checks that connection options that
// cannot work exit 2 naming the flag, and that the password is never
// echoed.
func TestRunBadConnectionOptionsExit2(t *testing.T) {
	t.Setenv("KAFKA_BOOTSTRAP_SERVERS", "")
	t.Setenv("KAFKA_SASL_PASSWORD", "hunter2-secret")
	b := []string{"--kafka-bootstrap-servers", "127.0.0.1:1", "--http-addr", ""}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--tls-key-file", "/nonexistent/user.key"}, "--tls-key-file: is set but --tls-cert-file is not"},
		{[]string{"--tls-ca-file", "/nonexistent/ca.crt"}, "--tls-ca-file: /nonexistent/ca.crt: cannot read the CA file"},
		{[]string{"--sasl-mechanism", "SCRAM-SHA-512"}, "--sasl-username: SCRAM-SHA-512 needs a user name"},
		{[]string{"--sasl-mechanism", "GSSAPI"}, `"GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER`},
		{[]string{"--sasl-username", "alice"}, "--sasl-username: is set but --sasl-mechanism is not"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := dispatch(append(append([]string{"run"}, b...), tt.args...), strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %.300s; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
		if strings.Contains(stdout.String()+stderr.String(), "hunter2-secret") {
			t.Errorf("%q: the password is printed", tt.args)
		}
	}
	var stdout, stderr bytes.Buffer
	dispatch([]string{"run", "-h"}, strings.NewReader(""), &stdout, &stderr)
	for _, want := range []string{"-sasl-mechanism", "(env KAFKA_SASL_MECHANISM)", "-tls-cert-file", "KAFKA_SASL_PASSWORD"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("run -h does not show %q", want)
		}
	}
}

// Help that is asked for goes to stdout and exits 0, for every subcommand;
// a bad flag goes to stderr with the usage and exits 2.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"run", "-h"}, {"transform", "-h"}, {"demo", "-h"}, {"--help"}, {"run", "--help"}} {
		var stdout, stderr bytes.Buffer
		code := dispatch(args, strings.NewReader(""), &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "usage: event-processor") || stderr.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %.80q; want 0, the usage on stdout, nothing on stderr", args, code, stdout.String(), stderr.String())
		}
	}
	for _, args := range [][]string{{"run", "--nope"}, {"transform", "--nope"}, {"demo", "--nope"}} {
		var stdout, stderr bytes.Buffer
		code := dispatch(args, strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "flag provided but not defined: -nope") || !strings.Contains(stderr.String(), "usage: event-processor") || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %.200q; want 2 and the error and usage on stderr", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	dispatch([]string{"run", "-h"}, strings.NewReader(""), &stdout, &stderr)
	if n := strings.Count(stdout.String(), "(default event-processor-"); n != 1 {
		t.Errorf("run -h shows the transactional id's default %d times, want once:\n%s", n, stdout.String())
	}
}
