package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/server"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/web"
)

func cmdServe(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	addr := e("LEADFLOW_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	fs.StringVar(&addr, "addr", addr, "listen address")
	demo := fs.Bool("demo", false, "fill a fresh database with a demo company, model and history")
	baseURL := fs.String("base-url", e("LEADFLOW_BASE_URL"), "public URL of leadflow, for links in notifications (default http://ADDR)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	logger := newLogger(stderr)
	if *baseURL == "" {
		*baseURL = "http://" + displayAddr(addr)
	}
	a, err := openAppURL(ctx, dbf, logger, true, strings.TrimRight(*baseURL, "/"))
	if err != nil {
		return err
	}
	defer a.Close()

	var creds *demoCredentials
	if *demo {
		if creds, err = seedDemo(ctx, a, stderr); err != nil {
			return err
		}
	}

	ui, err := web.New(web.Deps{Flow: a.flow, DB: a.db, Nurture: a.nurture, Logger: logger, Version: version})
	if err != nil {
		return err
	}
	adminName, adminPassword, err := web.Bootstrap(ctx, a.db)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           server.New(server.Deps{Flow: a.flow, DB: a.db, Notifier: a.notifier, Nurture: a.nurture, UI: ui, Logger: logger, Version: version}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	if err := a.queue.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	url := "http://" + displayAddr(ln.Addr().String())
	fmt.Fprintf(stdout, "leadflow %s listening on %s (database: %s)\n", version, url, describeDB(a.db, dbf))
	if adminName != "" {
		fmt.Fprintf(stdout, "\nFirst admin for the web UI (shown once): user %s  password %s\n", adminName, adminPassword)
	}
	if creds != nil {
		fmt.Fprintf(stdout, "\nDemo company loaded.\n  write key (HTTP Basic user for %s/v1/*): %s\n  API key (Authorization: Bearer): %s\n  try: curl -H 'Authorization: Bearer %s' '%s/api/v1/leads?sort=-score&limit=5'\n\n",
			url, creds.writeKey, creds.apiKey, creds.apiKey, url)
		if creds.salesUser != "" {
			fmt.Fprintf(stdout, "  web UI as an inside sales rep: %s  user %s  password %s\n\n", url, creds.salesUser, creds.salesPassword)
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	// Shutdown order: stop taking requests, finish the ones in flight,
	// then let running jobs finish, then close the database.
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("http shutdown", "err", err)
	}
	if err := a.queue.Stop(sctx); err != nil {
		logger.Error("jobs shutdown", "err", err)
	}
	return nil
}

func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func describeDB(db *store.DB, f dbFlags) string {
	if db.Dialect == store.Postgres {
		if i := strings.Index(f.db, "@"); i > 0 {
			return "postgres " + f.db[i+1:]
		}
		return "postgres"
	}
	if f.db != "" {
		return "sqlite " + f.db
	}
	return "sqlite " + f.dataDir + "/leadflow.db"
}
