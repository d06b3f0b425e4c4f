// Command token prints a bearer token for the local stack: an HS256 JWT whose sub claim is the
// given NIC handle, signed with $LOCAL_JWT_SECRET (default "local-dev-secret").
//
//	go run ./infra/local/token -nic xx11111-ovh [-ttl 24h]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// defaultSecret is the local stack's JWT secret when LOCAL_JWT_SECRET is unset.
const defaultSecret = "local-dev-secret"

func main() {
	if err := run(os.Args[1:], os.Getenv, time.Now(), os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "token:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, getenv func(string) string, now time.Time, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("token", flag.ContinueOnError)
	flags.SetOutput(stderr)
	nicFlag := flags.String("nic", "", "NIC handle of the account to authenticate as, like xx11111-ovh (required)")
	ttl := flags.Duration("ttl", 24*time.Hour, "validity of the token")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if *nicFlag == "" {
		return errors.New("-nic is required, like -nic xx11111-ovh")
	}
	if *ttl <= 0 {
		return fmt.Errorf("-ttl must be positive, got %s", *ttl)
	}
	nic, err := contact.NormalizeNIC(*nicFlag)
	if err != nil {
		return fmt.Errorf("-nic: %w", err)
	}
	secret := getenv("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = defaultSecret
	}
	token, err := gateway.Sign([]byte(secret), map[string]any{
		"sub": nic,
		"iat": now.Unix(),
		"exp": now.Add(*ttl).Unix(),
	})
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}
