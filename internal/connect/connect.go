// Package connect holds the Kafka connection options that `event-processor
// run` and every `ktool` command share, TLS, mTLS and SASL, and turns them
// into kgo client options. Flags lists each option once, with its
// environment twin; both commands register that table.
//
// Guarantees:
//   - Nothing secret is ever a flag: the SASL password comes from
//     $KAFKA_SASL_PASSWORD or --sasl-password-file, the OAUTHBEARER token
//     from --sasl-token-file, and neither is logged, printed or put in an
//     error message (Secret redacts itself).
//   - Validate, run once at start-up, refuses every combination that cannot
//     work, naming the flags: a key without a certificate, SASL without a
//     user name, an unreadable file, a PEM that does not parse.
//   - The CA bundle, client certificate and key, password file and token
//     file are read again for every new connection (and every SASL
//     authentication), so a rotated file (Strimzi renews its certificates
//     in place) is used without a restart. A half-written rotation (a key
//     that no longer matches its certificate) keeps the previous pair and
//     logs a warning until the pair matches again.
//   - Connection failures say what is probably misconfigured: an untrusted
//     broker certificate names --tls-ca-file, an expired client certificate
//     names --tls-cert-file and its expiry, a refused client certificate
//     says so.
package connect

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// PasswordEnv is the environment variable that holds the SASL password. It
// has no flag, so that the password never shows in `ps`.
const PasswordEnv = "KAFKA_SASL_PASSWORD"

// DefaultDialTimeout bounds a TCP connect and TLS handshake when
// Options.DialTimeout is zero; it is kgo's own default.
const DefaultDialTimeout = 10 * time.Second

// The SASL mechanisms Options.SASLMechanism accepts.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
	MechanismOAuthBearer = "OAUTHBEARER"
)

var mechanisms = []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512, MechanismOAuthBearer}

// Options are the connection options. The zero value is a plaintext,
// unauthenticated connection (the default).
type Options struct {
	TLS                bool   // --tls, KAFKA_TLS; implied by any other --tls-* option
	CAFile             string // --tls-ca-file, KAFKA_TLS_CA_FILE; empty: the system roots
	CertFile           string // --tls-cert-file, KAFKA_TLS_CERT_FILE (mTLS)
	KeyFile            string // --tls-key-file, KAFKA_TLS_KEY_FILE (mTLS)
	ServerName         string // --tls-server-name, KAFKA_TLS_SERVER_NAME; empty: the broker's host
	InsecureSkipVerify bool   // --tls-insecure-skip-verify, KAFKA_TLS_INSECURE_SKIP_VERIFY

	SASLMechanism string // --sasl-mechanism, KAFKA_SASL_MECHANISM; empty: no SASL
	Username      string // --sasl-username, KAFKA_SASL_USERNAME
	PasswordFile  string // --sasl-password-file, KAFKA_SASL_PASSWORD_FILE
	Password      Secret // $KAFKA_SASL_PASSWORD; never a flag
	TokenFile     string // --sasl-token-file, KAFKA_SASL_TOKEN_FILE (OAUTHBEARER)

	// DialTimeout bounds each connect and TLS handshake, overriding the
	// default 10s. Not a flag of its own: ktool sets it from
	// --connect-timeout.
	DialTimeout time.Duration
}

// A Flag is one connection option: its flag, its environment twin and its
// usage. Value returns the flag.Value that sets it in o.
type Flag struct {
	Name, Env, Usage string
	Value            func(o *Options) flag.Value
}

// Flags lists every connection option, in the order the help shows them.
var Flags = []Flag{
	{"tls", "KAFKA_TLS", "connect to the brokers over TLS (implied by any --tls-* option)", func(o *Options) flag.Value { return (*boolValue)(&o.TLS) }},
	{"tls-ca-file", "KAFKA_TLS_CA_FILE", "PEM file of the CA certificates that sign the brokers' certificates (default the system roots); re-read for new connections", func(o *Options) flag.Value { return (*stringValue)(&o.CAFile) }},
	{"tls-cert-file", "KAFKA_TLS_CERT_FILE", "PEM file of the client certificate (chain) for mTLS; needs --tls-key-file; re-read for new connections", func(o *Options) flag.Value { return (*stringValue)(&o.CertFile) }},
	{"tls-key-file", "KAFKA_TLS_KEY_FILE", "PEM file of the client certificate's private key; needs --tls-cert-file; re-read for new connections", func(o *Options) flag.Value { return (*stringValue)(&o.KeyFile) }},
	{"tls-server-name", "KAFKA_TLS_SERVER_NAME", "name the brokers' certificates must be valid for (default the host dialled)", func(o *Options) flag.Value { return (*stringValue)(&o.ServerName) }},
	{"tls-insecure-skip-verify", "KAFKA_TLS_INSECURE_SKIP_VERIFY", "do not verify the brokers' certificates (insecure: anyone on the path can read and change the traffic; logged at every start)", func(o *Options) flag.Value { return (*boolValue)(&o.InsecureSkipVerify) }},
	{"sasl-mechanism", "KAFKA_SASL_MECHANISM", "SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (default none)", func(o *Options) flag.Value { return (*mechanismValue)(&o.SASLMechanism) }},
	{"sasl-username", "KAFKA_SASL_USERNAME", "SASL user name (PLAIN, SCRAM)", func(o *Options) flag.Value { return (*stringValue)(&o.Username) }},
	{"sasl-password-file", "KAFKA_SASL_PASSWORD_FILE", "file holding the SASL password (PLAIN, SCRAM), re-read at each authentication; or set " + PasswordEnv, func(o *Options) flag.Value { return (*stringValue)(&o.PasswordFile) }},
	{"sasl-token-file", "KAFKA_SASL_TOKEN_FILE", "file holding the OAUTHBEARER token, re-read at each authentication", func(o *Options) flag.Value { return (*stringValue)(&o.TokenFile) }},
}

// Bind registers every connection flag on fs, setting o. The usage names
// the environment twin.
func (o *Options) Bind(fs *flag.FlagSet) {
	for _, f := range Flags {
		fs.Var(f.Value(o), f.Name, f.Usage+" (env "+f.Env+")")
	}
}

// ApplyEnv sets, from the environment, every option whose flag is not in
// set (the flags given on the command line), and the password from
// $KAFKA_SASL_PASSWORD: flags beat env beat defaults.
func (o *Options) ApplyEnv(set func(flagName string) bool, getenv func(string) (string, bool)) error {
	for _, f := range Flags {
		if set != nil && set(f.Name) {
			continue
		}
		v, ok := getenv(f.Env)
		if !ok {
			continue
		}
		if err := f.Value(o).Set(v); err != nil {
			return fmt.Errorf("environment variable %s (twin of --%s): %w", f.Env, f.Name, err)
		}
	}
	o.ApplyPasswordEnv(getenv)
	return nil
}

// ApplyPasswordEnv sets the password from $KAFKA_SASL_PASSWORD, if set.
func (o *Options) ApplyPasswordEnv(getenv func(string) (string, bool)) {
	if v, ok := getenv(PasswordEnv); ok {
		o.Password = Secret(v)
	}
}

// tlsOn reports whether the connection uses TLS.
func (o *Options) tlsOn() bool {
	return o.TLS || o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" || o.InsecureSkipVerify
}

// Validate reports the first option that cannot work, naming its flag. It
// reads every file named, so that an unreadable file or a PEM that does not
// parse fails at start-up rather than at the first connection.
func (o *Options) Validate() error {
	bad := func(flagName, format string, args ...any) error {
		return fmt.Errorf("--%s: %s", flagName, fmt.Sprintf(format, args...))
	}
	if o.KeyFile != "" && o.CertFile == "" {
		return bad("tls-key-file", "is set but --tls-cert-file is not: mTLS needs both the client certificate and its key")
	}
	if o.CertFile != "" && o.KeyFile == "" {
		return bad("tls-cert-file", "is set but --tls-key-file is not: mTLS needs both the client certificate and its key")
	}
	if o.CAFile != "" {
		if _, err := loadCA(o.CAFile); err != nil {
			return bad("tls-ca-file", "%v", err)
		}
	}
	if o.CertFile != "" {
		if _, err := loadPair(o.CertFile, o.KeyFile); err != nil {
			var fe *fileError
			if errors.As(err, &fe) && fe.file == o.KeyFile {
				return bad("tls-key-file", "%v", err)
			}
			return bad("tls-cert-file", "%v", err)
		}
	}
	if o.DialTimeout < 0 {
		return fmt.Errorf("dial timeout must not be negative, got %s", o.DialTimeout)
	}

	switch o.SASLMechanism {
	case "":
		for _, f := range []struct{ name, v string }{
			{"sasl-username", o.Username}, {"sasl-password-file", o.PasswordFile}, {"sasl-token-file", o.TokenFile},
		} {
			if f.v != "" {
				return bad(f.name, "is set but --sasl-mechanism is not; set --sasl-mechanism (%s)", strings.Join(mechanisms, ", "))
			}
		}
		if o.Password != "" {
			return fmt.Errorf("%s is set but --sasl-mechanism is not; set --sasl-mechanism (%s)", PasswordEnv, strings.Join(mechanisms, ", "))
		}
	case MechanismOAuthBearer:
		if o.TokenFile == "" {
			return bad("sasl-mechanism", "OAUTHBEARER needs --sasl-token-file, the file holding the token")
		}
		if o.Username != "" || o.PasswordFile != "" || o.Password != "" {
			return bad("sasl-mechanism", "OAUTHBEARER takes a token (--sasl-token-file), not --sasl-username, --sasl-password-file or %s", PasswordEnv)
		}
		if _, err := readToken(o.TokenFile); err != nil {
			return bad("sasl-token-file", "%v", err)
		}
	default: // PLAIN and SCRAM; mechanismValue has refused anything else
		if !slices.Contains(mechanisms, o.SASLMechanism) {
			return bad("sasl-mechanism", "%q is not one of %s", o.SASLMechanism, strings.Join(mechanisms, ", "))
		}
		if strings.TrimSpace(o.Username) == "" {
			return bad("sasl-username", "%s needs a user name", o.SASLMechanism)
		}
		if o.TokenFile != "" {
			return bad("sasl-token-file", "is for OAUTHBEARER, not %s", o.SASLMechanism)
		}
		switch {
		case o.PasswordFile != "" && o.Password != "":
			return bad("sasl-password-file", "and %s are both set; set one", PasswordEnv)
		case o.PasswordFile == "" && o.Password == "":
			return bad("sasl-password-file", "%s needs a password: set %s or --sasl-password-file", o.SASLMechanism, PasswordEnv)
		case o.PasswordFile != "":
			if _, err := readPassword(o.PasswordFile); err != nil {
				return bad("sasl-password-file", "%v", err)
			}
		}
	}
	return nil
}

// ClientOpts validates o and returns the kgo options that connect as o
// says: a dialer (TLS, mTLS, with the files re-read for each new
// connection) and a SASL mechanism. log receives the warnings: skip-verify
// at every start, a client certificate that has expired, a rotation that
// does not parse. With the zero Options it returns no options.
func (o Options) ClientOpts(log *slog.Logger) ([]kgo.Opt, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	var opts []kgo.Opt
	if o.tlsOn() {
		if o.InsecureSkipVerify {
			log.Warn("--tls-insecure-skip-verify is set: the brokers' certificates are not verified, so anyone on the network path can read and change the traffic; use it only to debug",
				"flag", "--tls-insecure-skip-verify")
		}
		d := newTLSDialer(o, log)
		if d.pair != nil {
			if err := checkValidity(o.CertFile, d.pair.current().Leaf, time.Now()); err != nil {
				log.Error("the client certificate cannot be used; connections fail until it is renewed", "flag", "--tls-cert-file", "err", err)
			}
		}
		opts = append(opts, kgo.Dialer(d.DialContext))
	} else if o.DialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(o.DialTimeout))
	}
	if o.SASLMechanism != "" {
		opts = append(opts, kgo.SASL(o.mechanism()))
	}
	return opts, nil
}

// Summary describes o for a start-up log line without anything secret:
// "tls, mTLS, sasl SCRAM-SHA-512 as alice" or "plaintext".
func (o Options) Summary() string {
	var parts []string
	if o.tlsOn() {
		parts = append(parts, "tls")
		if o.CertFile != "" {
			parts = append(parts, "mTLS")
		}
		if o.InsecureSkipVerify {
			parts = append(parts, "insecure-skip-verify")
		}
	} else {
		parts = append(parts, "plaintext")
	}
	if o.SASLMechanism != "" {
		s := "sasl " + o.SASLMechanism
		if o.Username != "" {
			s += " as " + o.Username
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Secret is a string that never prints: fmt, slog and %#v show
// "[redacted]".
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the secret's value, for the SASL exchange only.
func (s Secret) Reveal() string { return string(s) }

// fileError is a file that cannot be used, naming it (never its content).
type fileError struct {
	file, what string
	err        error
}

func (e *fileError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("%s: %s", e.file, e.what)
	}
	return fmt.Sprintf("%s: %s: %v", e.file, e.what, e.err)
}

func (e *fileError) Unwrap() error { return e.err }

func readFile(file, what string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, &fileError{file: file, what: "cannot read the " + what, err: err}
	}
	return b, nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(strings.TrimSpace(s)); return nil }

type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	if strings.TrimSpace(s) == "" { // an environment variable set empty
		*v = false
		return nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

type mechanismValue string

func (v *mechanismValue) String() string { return string(*v) }
func (v *mechanismValue) Set(s string) error {
	m := strings.ToUpper(strings.TrimSpace(s))
	if m != "" && !slices.Contains(mechanisms, m) {
		return fmt.Errorf("%q is not one of %s", s, strings.Join(mechanisms, ", "))
	}
	*v = mechanismValue(m)
	return nil
}
