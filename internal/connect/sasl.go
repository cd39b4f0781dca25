package connect

import (
	"bytes"
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// mechanism returns franz-go's SASL mechanism for o. The credentials are
// read at each authentication, so a rotated password or token file is used
// by the next connection.
func (o Options) mechanism() sasl.Mechanism {
	password := func() (string, error) {
		if o.PasswordFile == "" {
			return o.Password.Reveal(), nil
		}
		return readPassword(o.PasswordFile)
	}
	switch o.SASLMechanism {
	case MechanismPlain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			p, err := password()
			return plain.Auth{User: o.Username, Pass: p}, err
		})
	case MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		fn := func(context.Context) (scram.Auth, error) {
			p, err := password()
			return scram.Auth{User: o.Username, Pass: p}, err
		}
		if o.SASLMechanism == MechanismSCRAMSHA256 {
			return scram.Sha256(fn)
		}
		return scram.Sha512(fn)
	default: // MechanismOAuthBearer; Validate refused anything else
		return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			t, err := readToken(o.TokenFile)
			return oauth.Auth{Token: t}, err
		})
	}
}

// readPassword reads a password file; a trailing newline (as `echo` and
// Kubernetes secrets created from literals may leave) is not part of it.
func readPassword(file string) (string, error) {
	b, err := readFile(file, "password file")
	if err != nil {
		return "", err
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", &fileError{file: file, what: "the password file is empty"}
	}
	return string(b), nil
}

// readToken reads an OAUTHBEARER token file, trimming surrounding space.
func readToken(file string) (string, error) {
	b, err := readFile(file, "token file")
	if err != nil {
		return "", err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", &fileError{file: file, what: "the token file is empty"}
	}
	if bytes.ContainsAny(b, " \t\r\n") {
		return "", &fileError{file: file, what: "the token file holds more than one token", err: errors.New("a token has no white space")}
	}
	return string(b), nil
}
