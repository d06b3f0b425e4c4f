// Command token prints a bearer token for the local stack, an HS256 JWT signed with
// $LOCAL_JWT_SECRET (default "local-dev-secret"): a customer's, whose identity claim (sub,
// or the claim the stack is set to read, like custom:nic) is the given NIC handle, or an
// operator's, which the local gateway admits on the operator routes only, as the IAM user
// it names.
//
//	go run ./infra/local/token -nic xx11111-ovh [-claim custom:nic] [-ttl 24h]
//	go run ./infra/local/token -operator support-alice [-ttl 24h]
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
	nicFlag := flags.String("nic", "", "NIC handle of the customer to authenticate as, like xx11111-ovh")
	claim := flags.String("claim", gateway.DefaultIdentityClaim, "claim holding the NIC handle, as the stack's identity claim is set (e.g. custom:nic)")
	operator := flags.String("operator", "", "name of the operator (an IAM user name) to authenticate as, like support-alice")
	ttl := flags.Duration("ttl", 24*time.Hour, "validity of the token")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if (*nicFlag == "") == (*operator == "") {
		return errors.New("give exactly one of -nic (a customer, like -nic xx11111-ovh) and -operator (like -operator support-alice)")
	}
	if *ttl <= 0 {
		return fmt.Errorf("-ttl must be positive, got %s", *ttl)
	}
	claimSet := false
	flags.Visit(func(f *flag.Flag) { claimSet = claimSet || f.Name == "claim" })

	claims := map[string]any{"iat": now.Unix(), "exp": now.Add(*ttl).Unix()}
	switch {
	case *operator != "":
		if claimSet {
			return errors.New("-claim applies to -nic only: an operator token names its operator in the operator claim")
		}
		if err := gateway.CheckOperatorName(*operator); err != nil {
			return fmt.Errorf("-operator: %w", err)
		}
		claims[gateway.OperatorClaim] = *operator
	default:
		nic, err := contact.NormalizeNIC(*nicFlag)
		if err != nil {
			return fmt.Errorf("-nic: %w", err)
		}
		switch *claim {
		case "":
			return errors.New("-claim must name a claim, like sub or custom:nic")
		case gateway.OperatorClaim, "iat", "exp":
			return fmt.Errorf("-claim %s cannot hold the NIC handle", *claim)
		}
		claims[*claim] = nic
	}

	token, err := gateway.Sign(gateway.SecretFromEnv(getenv), claims)
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}
