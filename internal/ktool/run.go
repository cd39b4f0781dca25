// Package ktool is the everyday Kafka tool for this project: produce records
// from the command line or a file, consume them readably or as JSON lines,
// list, create and describe topics, show a consumer group's lag, and verify
// that a processor's results match its input exactly once. It talks to any
// Kafka-compatible bootstrap address (--brokers, or the environment variable
// KAFKA_BOOTSTRAP_SERVERS, or localhost:9092), over TLS, mTLS and SASL with
// the same connection flags and environment variables as event-processor
// (package connect).
//
// Usage errors exit 2, runtime errors (an unreachable broker, a missing
// topic, an unreadable file) exit 1. See docs/ktool.md.
package ktool

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/event-processor/event-processor/internal/connect"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1 // the command was well formed but failed
	exitUsage   = 2 // the command line is wrong; the message says what to fix
)

// Defaults, kept in one place; the flag docs and docs/ktool.md quote them.
const (
	defaultBrokers        = "localhost:9092"
	defaultConnectTimeout = 10 * time.Second
	defaultIdleTimeout    = 5 * time.Second

	// requestTimeout bounds every admin request and every produced record's
	// delivery once a broker has answered the first time.
	requestTimeout = 30 * time.Second

	envBrokers = "KAFKA_BOOTSTRAP_SERVERS"
)

// groupJoinTimeout is how long consume --group waits for its first
// assignment (the idle timeout starts counting then) before it fails. A
// variable so that tests need not wait as long.
var groupJoinTimeout = 30 * time.Second

const mainUsage = `usage: ktool [--brokers ADDRS] <command> [arguments] [flags]

Commands:
  produce TOPIC [VALUE | -]      write one record (VALUE, or stdin for "-")
  produce TOPIC --file FILE      write one record per JSON array element or per line
  consume TOPIC                  read records, pretty or as JSON lines
  topics list                    list topics
  topics create TOPIC...         create topics
  topics describe TOPIC...       partitions, leaders, replicas, configs
  lag GROUP                      a consumer group's committed offsets, end offsets and lag
  verify                         check that every input has exactly one result
  help [COMMAND]                 show help

Flags of every command:
  --brokers ADDRS          Kafka bootstrap address(es), comma separated
                           (env KAFKA_BOOTSTRAP_SERVERS, default localhost:9092)
  --connect-timeout DUR    give up if no broker answers within DUR (default 10s)

Connection flags of every command (the same as event-processor's; each has
an environment twin, e.g. --sasl-mechanism / KAFKA_SASL_MECHANISM):
  --tls                    connect over TLS (implied by any --tls-* flag)
  --tls-ca-file FILE       CA bundle for the brokers' certificates (default system roots)
  --tls-cert-file FILE     client certificate (mTLS), with --tls-key-file FILE
  --tls-server-name NAME   name the brokers' certificates must carry
  --tls-insecure-skip-verify  do not verify the brokers (insecure; warns)
  --sasl-mechanism MECH    PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER
  --sasl-username NAME     with the password in $KAFKA_SASL_PASSWORD or
  --sasl-password-file FILE  (never a flag)
  --sasl-token-file FILE   the OAUTHBEARER token

Flags may come before or after the arguments. Run "ktool <command> -h" for a
command's flags. Exit status: 0 ok, 1 runtime error, 2 usage error.
`

// env is what a command runs with: its streams and the common flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	brokers        string          // --brokers; empty until resolve
	connectTimeout time.Duration   // --connect-timeout
	conn           connect.Options // --tls*, --sasl-* and their environment twins
	connOpts       []kgo.Opt       // conn as kgo options, built by validate
}

// registerCommon adds the flags every command takes to fs.
func (e *env) registerCommon(fs *flag.FlagSet) {
	fs.StringVar(&e.brokers, "brokers", e.brokers,
		"Kafka bootstrap `addresses`, comma separated (env "+envBrokers+", default "+defaultBrokers+")")
	durationVar(fs, &e.connectTimeout, "connect-timeout", e.connectTimeout,
		"give up if no broker answers within this `duration`")
	e.conn.Bind(fs)
}

// seeds returns the bootstrap addresses: --brokers, else
// $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092.
func (e *env) seeds() []string {
	s := e.brokers
	if s == "" {
		s = os.Getenv(envBrokers)
	}
	if strings.TrimSpace(s) == "" {
		s = defaultBrokers
	}
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// validate checks the common flags once, after parsing.
func (e *env) validate(cmd string) error {
	if e.connectTimeout <= 0 {
		return usagef(cmd, "--connect-timeout must be more than 0, got %s", e.connectTimeout)
	}
	e.conn.DialTimeout = e.connectTimeout
	// Warnings (--tls-insecure-skip-verify, an expired client
	// certificate) go to stderr.
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := e.conn.ClientOpts(log)
	if err != nil {
		return usagef(cmd, "%v", err)
	}
	e.connOpts = opts
	source := "--brokers"
	if e.brokers == "" && strings.TrimSpace(os.Getenv(envBrokers)) != "" {
		source = envBrokers
	}
	seeds := e.seeds()
	if len(seeds) == 0 {
		return usagef(cmd, "%s names no address", source)
	}
	for _, a := range seeds {
		if err := checkBrokerAddr(a); err != nil {
			return usagef(cmd, "%s: %v", source, err)
		}
	}
	return nil
}

// checkBrokerAddr checks one bootstrap address before any is dialled, so
// that a typo is a usage error rather than a failed connection.
func checkBrokerAddr(a string) error {
	const want = "want host:port, a host name or IP address ([::1] for IPv6) and a port from 1 to 65535"
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port; %s", a, want)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has port %q; %s", a, port, want)
	}
	return nil
}

// usageError is a command line that cannot run as written. It exits 2.
type usageError struct {
	cmd string // the command whose synopsis to show: "produce", "topics create"
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// errHelp asks for the command's help text on stdout and exit status 0.
var errHelp = errors.New("help requested")

// command is one subcommand.
type command struct {
	name     string // as typed: "produce", "topics create"
	synopsis string // usage lines, without the leading "usage: "
	about    string // what it does, a paragraph
	// flags registers the command's own flags on fs; nil for none.
	flags func(fs *flag.FlagSet)
	// run runs the command with the positional arguments left by parsing.
	run func(ctx context.Context, e *env, args []string) error
}

// commands lists the runnable commands by name.
func commands() map[string]*command {
	m := map[string]*command{}
	for _, c := range []*command{produceCommand(), consumeCommand(), topicsListCommand(),
		topicsCreateCommand(), topicsDescribeCommand(), lagCommand(), verifyCommand()} {
		m[c.name] = c
	}
	return m
}

// Main is ktool's entry point; the command's main only hands it the
// process's arguments and streams. It returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdin, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, connectTimeout: defaultConnectTimeout}
	cmds := commands()

	// The connection options' environment twins; a flag given on the
	// command line, parsed next, beats them.
	if err := e.conn.ApplyEnv(nil, os.LookupEnv); err != nil {
		fmt.Fprintf(stderr, "ktool: %v\n", err)
		return exitUsage
	}

	// Common flags may come before the command name.
	top := flag.NewFlagSet("ktool", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	e.registerCommon(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, mainUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "ktool: %v\n\n%s", flagError(err), mainUsage)
		return exitUsage
	}
	rest := top.Args()
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "ktool: missing command\n\n%s", mainUsage)
		return exitUsage
	}

	name, rest := rest[0], rest[1:]
	switch name {
	case "help":
		return help(cmds, rest, stdout, stderr)
	case "topics":
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			if len(rest) > 0 && isHelpFlag(rest[0]) {
				fmt.Fprint(stdout, topicsUsage)
				return exitOK
			}
			fmt.Fprintf(stderr, "ktool topics: the subcommand comes first: list, create or describe\n\n%s", topicsUsage)
			return exitUsage
		}
		name, rest = "topics "+rest[0], rest[1:]
		if cmds[name] == nil {
			fmt.Fprintf(stderr, "ktool topics: unknown subcommand %q; use list, create or describe\n\n%s", strings.TrimPrefix(name, "topics "), topicsUsage)
			return exitUsage
		}
	}
	c := cmds[name]
	if c == nil {
		fmt.Fprintf(stderr, "ktool: unknown command %q\n\n%s", name, mainUsage)
		return exitUsage
	}
	return exitStatus(c, e, c.execute(ctx, e, rest))
}

// execute parses the command's flags and runs it.
func (c *command) execute(ctx context.Context, e *env, args []string) error {
	fs := c.flagSet(e)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return err
		}
		return &usageError{cmd: c.name, msg: err.Error()}
	}
	if err := e.validate(c.name); err != nil {
		return err
	}
	return c.run(ctx, e, pos)
}

func (c *command) flagSet(e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("ktool "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // ktool prints its own messages
	if c.flags != nil {
		c.flags(fs)
	}
	e.registerCommon(fs)
	return fs
}

// exitStatus reports err on stderr (or the help text on stdout) and maps it
// to an exit status.
func exitStatus(c *command, e *env, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		c.printHelp(e.stdout, e)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "ktool %s: %s\nusage: %s\nRun 'ktool %s -h' for its flags.\n",
			c.name, ue.msg, strings.ReplaceAll(c.synopsis, "\n", "\n       "), c.name)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "ktool %s: %v\n", c.name, err)
		return exitRuntime
	}
}

func (c *command) printHelp(w io.Writer, e *env) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n\nFlags:\n", strings.ReplaceAll(c.synopsis, "\n", "\n       "), c.about)
	printFlags(w, c.flagSet(&env{connectTimeout: defaultConnectTimeout}))
}

// printFlags is flag.PrintDefaults with the "--name" spelling the docs use.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		usage = strings.ReplaceAll(usage, "\n", "\n    \t")
		line += "\n    \t" + usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(usage, "(default") {
			line += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintln(w, line)
	})
}

func help(cmds map[string]*command, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	name := strings.Join(args, " ")
	if name == "topics" {
		fmt.Fprint(stdout, topicsUsage)
		return exitOK
	}
	c := cmds[name]
	if c == nil {
		fmt.Fprintf(stderr, "ktool help: unknown command %q\n\n%s", name, mainUsage)
		return exitUsage
	}
	c.printHelp(stdout, &env{})
	return exitOK
}

const topicsUsage = `usage: ktool topics list [--internal]
       ktool topics create TOPIC... [--partitions N] [--replication-factor N] [--config KEY=VALUE]...
       ktool topics describe TOPIC... [--all-configs]

Run "ktool topics <list|create|describe> -h" for the flags.
`

// count returns "1 record", "2 records".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--h" || s == "-help" || s == "--help"
}

// parseInterleaved parses fs from args and returns the positional arguments.
// Unlike fs.Parse alone, flags may follow positional arguments
// ("ktool produce input-events --file x.json"), as users of the original
// ktool typed them. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, flagError(err)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// keyValueFlag collects repeated KEY=VALUE flags in order.
type keyValueFlag struct {
	pairs [][2]string
}

func (f *keyValueFlag) String() string {
	if f == nil {
		return ""
	}
	var parts []string
	for _, p := range f.pairs {
		parts = append(parts, p[0]+"="+p[1])
	}
	return strings.Join(parts, ",")
}

func (f *keyValueFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	f.pairs = append(f.pairs, [2]string{k, v})
	return nil
}

// The flag package words a bad value as `invalid value "x" for flag -name:
// ERR` (`invalid boolean value "x" for -name: ERR` for booleans); ktool's
// flag values put the value and what is allowed in ERR, so flagError
// rewords it as `--name: ERR`.
var (
	badValueRE = regexp.MustCompile(`^invalid value "(?s:.*)" for flag -([^:]+): ((?s).*)$`)
	badBoolRE  = regexp.MustCompile(`^invalid boolean value ("(?s:.*)") for -([^:]+): `)
	noValueRE  = regexp.MustCompile(`^flag needs an argument: -(.+)$`)
)

// flagError turns the flag package's parse errors into messages that name
// the flag as the docs spell it, the bad value and what is allowed.
func flagError(err error) error {
	msg := err.Error()
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s: %s", m[1], m[2])
	}
	if m := badBoolRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s: %s is not true or false (give --%s alone to turn it on)", m[2], m[1], m[2])
	}
	if m := noValueRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s needs a value", m[1])
	}
	return err
}

// intFlag is an integer flag whose parse error says what is allowed; set
// records whether the command line gave it.
type intFlag struct {
	p       *int
	allowed string // e.g. "1 or more"
	set     bool
}

func (f *intFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return strconv.Itoa(*f.p)
}

func (f *intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number; want %s", s, f.allowed)
	}
	*f.p, f.set = n, true
	return nil
}

// intVar registers an intFlag on fs.
func intVar(fs *flag.FlagSet, p *int, name string, value int, allowed, usage string) *intFlag {
	*p = value
	f := &intFlag{p: p, allowed: allowed}
	fs.Var(f, name, usage)
	return f
}

// durationFlag is a duration flag whose parse error gives examples.
type durationFlag struct{ p *time.Duration }

func (f durationFlag) String() string {
	if f.p == nil {
		return ""
	}
	return f.p.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration; want a number with a unit, e.g. 500ms, 5s or 1m", s)
	}
	*f.p = d
	return nil
}

// durationVar registers a durationFlag on fs.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage)
}
