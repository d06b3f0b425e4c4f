// Command local runs the whole system on one machine with no AWS account and no Docker:
// `make run`, or `go run ./infra/local -addr 127.0.0.1:3000 -seed seed.json`.
package main

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/database"
	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

//go:embed seed.json
var demoSeed []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	seedFile := flag.String("seed", "", "JSON file of accounts and services (default: the demo seed)")
	baseURL := flag.String("public-url", "", "base URL of emailed links (default: http://<addr>)")
	flag.Parse()

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, *addr, *seedFile, *baseURL); err != nil {
		log.Error("local stack stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, addr, seedFile, baseURL string) error {
	seed, err := readSeed(seedFile)
	if err != nil {
		return err
	}
	// Locally any positive expiry goes, 30s included, to watch a request expire.
	var expiry time.Duration
	if s := os.Getenv(config.RequestExpiry); s != "" {
		if expiry, err = config.ParseExpiry(s); err != nil {
			return err
		}
	}
	var limits [3]contact.Limit // zero: the domain's defaults
	for i, name := range []string{config.LimitRequests, config.LimitEmails, config.LimitWrongTokens} {
		if v := os.Getenv(name); v != "" {
			if limits[i], err = config.ParseLimit(name, v); err != nil {
				return err
			}
		}
	}
	origins, err := gateway.ParseCORSOrigins(os.Getenv("CORS_ORIGINS"))
	if err != nil {
		return fmt.Errorf("CORS_ORIGINS: %w", err)
	}
	if baseURL == "" {
		baseURL = "http://" + addr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// With DYNAMODB_ENDPOINT (DynamoDB Local, say), the same store code runs on it, tables
	// created when missing; without it, on the embedded backend.
	var db store.API
	if os.Getenv(database.EndpointVariable) != "" {
		if db, err = database.Dial(ctx, os.Getenv); err != nil {
			return err
		}
	}
	s, err := stack.New(ctx, stack.Options{
		DynamoDB: db,
		Seed:     seed, JWTSecret: gateway.SecretFromEnv(os.Getenv), PublicBaseURL: baseURL, Expiry: expiry, Logger: log,
		IdentityClaim: os.Getenv(config.IdentityClaim), CORSOrigins: origins,
		OIDCIssuer: os.Getenv("OIDC_ISSUER"), OIDCClientID: os.Getenv("OIDC_CLIENT_ID"),
		CreationLimit: limits[0], EmailLimit: limits[1], WrongTokenLimit: limits[2],
	})
	if err != nil {
		return err
	}
	defer s.Close()

	srv := &http.Server{Addr: addr, Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("local stack listening", "url", baseURL, "dynamodb", cmp.Or(os.Getenv(database.EndpointVariable), "embedded"), "mail", baseURL+"/_local/mail/ui", "events", baseURL+"/_local/events",
		"accounts", len(seed.Accounts), "services", len(seed.Services))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func readSeed(path string) (store.Seed, error) {
	var r io.Reader = bytes.NewReader(demoSeed)
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return store.Seed{}, fmt.Errorf("open seed: %w", err)
		}
		defer f.Close()
		r = f
	}
	seed, err := store.ReadSeed(r)
	if err != nil {
		return store.Seed{}, fmt.Errorf("read seed %s: %w", path, err)
	}
	return seed, nil
}
