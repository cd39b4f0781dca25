package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/event-processor/event-processor/internal/connect"
	"github.com/event-processor/event-processor/internal/connect/conntest"
	"github.com/twmb/franz-go/pkg/kadm"
)

// SecureBroker is a broker with secured listeners and an authorizer
// (StandardAuthorizer, allow.everyone.if.no.acl.found=false), every listener
// on 127.0.0.1:
//
//   - Addr (the embedded Broker's): PLAINTEXT, the test harness's own
//     listener; its principal ANONYMOUS is a super user, as the controller
//     listener's must be, so topics are created and ACLs granted here.
//   - SASLAddr: SASL_SSL with PLAIN (users in the JAAS config:
//     PlainUsers), SCRAM-SHA-256 and SCRAM-SHA-512 (users created through
//     the admin API: AddSCRAMUser) and OAUTHBEARER (the broker's unsecured
//     test validator: any subject, conntest.UnsecuredToken).
//   - MTLSAddr: SSL with client certificates required (ssl.client.auth);
//     the principal is User:CN=<the certificate's common name>.
//   - RotateAddr: another mTLS listener, advertised through a proxy in this
//     process that can drop every connection (ResetRotateConns), so that a
//     test can make clients dial again.
//
// The certificates (a CA, the broker's for IP 127.0.0.1) are made in Go and
// bind-mounted into the container as PEM key and trust stores.
type SecureBroker struct {
	*Broker
	SASLAddr, MTLSAddr, RotateAddr string

	Dir    string // the PEM files; the container sees it as /certs
	CA     *conntest.CA
	CAFile string // the CA certificate, to verify the broker

	// AdminPassword is the super user "admin"'s password (PLAIN and
	// SCRAM-SHA-512).
	AdminPassword string
	// PlainUsers are the PLAIN users and their passwords, fixed at start.
	PlainUsers map[string]string

	proxy *resetProxy
}

// superUser is the test's own principal on the secured listeners.
const superUser = "admin"

// plainUserNames are the PLAIN users the broker knows (PLAIN users live in
// the broker's JAAS config, so they are fixed when it starts).
var plainUserNames = []string{"plain-proc", "plain-denied"}

// StartSecureBroker starts a secured broker and creates the super user's
// SCRAM credential. Stop it with Terminate.
func StartSecureBroker(ctx context.Context) (_ *SecureBroker, err error) {
	if err := checkDocker(ctx); err != nil {
		return nil, err
	}
	sb := &SecureBroker{AdminPassword: randomSecret(), PlainUsers: map[string]string{}}
	for _, u := range plainUserNames {
		sb.PlainUsers[u] = randomSecret()
	}
	if sb.Dir, err = os.MkdirTemp("", "ep-secure-broker-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			sb.cleanup()
		}
	}()
	if err := os.Chmod(sb.Dir, 0o755); err != nil {
		return nil, err
	}
	if sb.CA, err = conntest.NewCA("ep-test-ca"); err != nil {
		return nil, err
	}
	brokerCert, err := sb.CA.Issue("broker", conntest.Options{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return nil, err
	}
	sb.CAFile = filepath.Join(sb.Dir, "ca.crt")
	for name, b := range map[string][]byte{
		"ca.crt":     sb.CA.PEM,
		"broker.pem": append(append([]byte{}, brokerCert.KeyPEM...), brokerCert.CertPEM...), // key and chain in one file
	} {
		if err := os.WriteFile(filepath.Join(sb.Dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}

	ports, err := freePorts(6)
	if err != nil {
		return nil, fmt.Errorf("picking broker ports: %w", err)
	}
	at := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	plain, controller, rotateReal := at(0), at(1), at(4)
	sb.SASLAddr, sb.MTLSAddr, sb.RotateAddr = at(2), at(3), at(5)
	if sb.proxy, err = newResetProxy(sb.RotateAddr, rotateReal); err != nil {
		return nil, err
	}

	plainJAAS := `org.apache.kafka.common.security.plain.PlainLoginModule required user_` + superUser + `="` + sb.AdminPassword + `"`
	for u, p := range sb.PlainUsers {
		plainJAAS += ` user_` + u + `="` + p + `"`
	}
	env := map[string]string{
		"CLUSTER_ID":                           "ep-integration-secure0",
		"KAFKA_NODE_ID":                        "1",
		"KAFKA_PROCESS_ROLES":                  "broker,controller",
		"KAFKA_LISTENERS":                      "PLAINTEXT://" + plain + ",CONTROLLER://" + controller + ",SECURE://" + sb.SASLAddr + ",MTLS://" + sb.MTLSAddr + ",ROTATE://" + rotateReal,
		"KAFKA_ADVERTISED_LISTENERS":           "PLAINTEXT://" + plain + ",SECURE://" + sb.SASLAddr + ",MTLS://" + sb.MTLSAddr + ",ROTATE://" + sb.RotateAddr,
		"KAFKA_CONTROLLER_LISTENER_NAMES":      "CONTROLLER",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SECURE:SASL_SSL,MTLS:SSL,ROTATE:SSL",
		"KAFKA_INTER_BROKER_LISTENER_NAME":     "PLAINTEXT",
		"KAFKA_CONTROLLER_QUORUM_VOTERS":       "1@" + controller,

		"KAFKA_SSL_KEYSTORE_TYPE":                    "PEM",
		"KAFKA_SSL_KEYSTORE_LOCATION":                "/certs/broker.pem",
		"KAFKA_SSL_TRUSTSTORE_TYPE":                  "PEM",
		"KAFKA_SSL_TRUSTSTORE_LOCATION":              "/certs/ca.crt",
		"KAFKA_LISTENER_NAME_MTLS_SSL_CLIENT_AUTH":   "required",
		"KAFKA_LISTENER_NAME_ROTATE_SSL_CLIENT_AUTH": "required",

		"KAFKA_SASL_ENABLED_MECHANISMS":                                             "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
		"KAFKA_LISTENER_NAME_SECURE_PLAIN_SASL_JAAS_CONFIG":                         plainJAAS + ";",
		"KAFKA_LISTENER_NAME_SECURE_SCRAM___SHA___256_SASL_JAAS_CONFIG":             "org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"KAFKA_LISTENER_NAME_SECURE_SCRAM___SHA___512_SASL_JAAS_CONFIG":             "org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"KAFKA_LISTENER_NAME_SECURE_OAUTHBEARER_SASL_JAAS_CONFIG":                   `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="` + superUser + `";`,
		"KAFKA_LISTENER_NAME_SECURE_OAUTHBEARER_SASL_SERVER_CALLBACK_HANDLER_CLASS": "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler",

		"KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"KAFKA_SUPER_USERS":           "User:ANONYMOUS;User:" + superUser + ";User:CN=" + superUser,
	}
	maps.Copy(env, singleNode)
	ctr, err := runKafka(ctx, env, plain, sb.Dir+":/certs:ro")
	if err != nil {
		return nil, fmt.Errorf("the secured broker: %w", err)
	}
	sb.Broker = &Broker{Addr: plain, ctr: ctr}
	if err := sb.AddSCRAMUser(ctx, superUser, sb.AdminPassword, kadm.ScramSha512); err != nil {
		_ = sb.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	return sb, nil
}

// Terminate removes the container, the proxy and the PEM files.
func (sb *SecureBroker) Terminate(ctx context.Context) error {
	err := sb.Broker.Terminate(ctx)
	sb.cleanup()
	return err
}

func (sb *SecureBroker) cleanup() {
	if sb.proxy != nil {
		sb.proxy.close()
	}
	if sb.Dir != "" {
		os.RemoveAll(sb.Dir)
	}
}

// AddSCRAMUser creates (or replaces) a SCRAM credential through the admin
// API, and waits until the secured listener accepts it.
func (sb *SecureBroker) AddSCRAMUser(ctx context.Context, user, password string, mech kadm.ScramMechanism) error {
	adm, err := sb.Admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: mech, Iterations: 4096, Password: password}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("creating the SCRAM user %s: %w", user, err)
	}
	return nil
}

// Grant adds allow ACLs for principal (e.g. "User:alice").
func (sb *SecureBroker) Grant(ctx context.Context, b *kadm.ACLBuilder) error {
	adm, err := sb.Admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	res, err := adm.CreateACLs(ctx, b)
	if err != nil {
		return fmt.Errorf("creating ACLs: %w", err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("creating ACL %s %s on %s %s: %w", r.Principal, r.Operation, r.Type, r.Name, r.Err)
		}
	}
	return nil
}

// AdminConnect returns the super user's connection options on the SASL_SSL
// listener (SCRAM-SHA-512): how the tests' verifier reads every topic.
func (sb *SecureBroker) AdminConnect() connect.Options {
	return connect.Options{CAFile: sb.CAFile, SASLMechanism: connect.MechanismSCRAMSHA512, Username: superUser, Password: connect.Secret(sb.AdminPassword)}
}

// ResetRotateConns drops every connection through RotateAddr; clients
// dial again.
func (sb *SecureBroker) ResetRotateConns() int { return sb.proxy.reset() }

// IssueClient makes a client certificate for CN=cn and writes it to
// dir/name.crt and dir/name.key.
func (sb *SecureBroker) IssueClient(dir, name, cn string, o conntest.Options) (certFile, keyFile string, err error) {
	leaf, err := sb.CA.Issue(cn, o)
	if err != nil {
		return "", "", err
	}
	return leaf.Write(dir, name)
}

func randomSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "pw-" + hex.EncodeToString(b)
}

// resetProxy forwards TCP connections from listen to target and can drop
// them all at once.
type resetProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func newResetProxy(listen, target string) (*resetProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &resetProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *resetProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *resetProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// reset closes every forwarded connection and returns how many client
// connections there were.
func (p *resetProxy) reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	return len(p.conns) / 2
}

func (p *resetProxy) close() {
	p.ln.Close()
	p.reset()
}
