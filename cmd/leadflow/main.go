// Command leadflow runs leadflow: the HTTP API, ingestion, jobs and the
// operator commands, on SQLite by default or PostgreSQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/leadflow/leadflow"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "serve" && os.Getenv("GOGC") == "" {
		// The server allocates per request and keeps little: a garbage
		// collection every 4x of the live heap instead of 2x gives the
		// single SQLite writer ~5% more of the CPU under ingestion load
		// (docs/benchmarks.md). GOGC in the environment overrides it.
		debug.SetGCPercent(serveGCPercent)
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "leadflow:", message(err))
		}
		os.Exit(exitCode(err))
	}
}

var errUsage = errors.New("usage")

// serveGCPercent is the server's GOGC unless the environment sets one.
const serveGCPercent = 400

func message(err error) string {
	var e *leadflow.Error
	if errors.As(err, &e) {
		msg := leadflow.ErrorMessage(err)
		for _, d := range e.Details {
			msg += "\n  " + d.Where + ": " + d.Message
		}
		if e.Code == leadflow.EINTERNAL || e.Code == leadflow.EUNAVAILABLE {
			return err.Error()
		}
		return msg
	}
	return err.Error()
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// env reads configuration from the environment.
type env func(string) string

const usage = `leadflow — the B2B lead flow, end to end

Usage:
  leadflow serve [--demo] [--addr :8080] [--db URL] [--data-dir DIR]
  leadflow migrate                      apply database migrations
  leadflow version
  leadflow source create --name NAME    print a new write key (for /v1/* ingestion)
  leadflow apikey create --name NAME [--role ROLE] [--user USER]  print a new API key (for /api/v1; role default admin; a sales key needs --user)
  leadflow import leads FILE.csv [--map "Header=field,…"] [--encoding shift_jis]
  leadflow model validate FILE | apply FILE | show [--version N] | diff [--from N] [--to N] | history
  leadflow model backtest FILE --from DATE --to DATE [--thresholds 10:150:5] [--capacity N] [--beta 1] [--format table|json|csv]
  leadflow lead explain EMAIL
  leadflow user create --name N --role ROLE [--email E] [--team T] [--max-open N] [--display-name TEXT] | update --name N [...] [--active=false] | list [--team T]
  leadflow team create --name T [--manager U] | update --name T --manager U | list
  leadflow routing validate FILE | set FILE | show
  leadflow gen --leads N --events N [--seed N] [--days N]   load a synthetic history
  leadflow bench rescore [--runs N]     time a full rescore (and, on PostgreSQL, the same scoring in SQL)

Configuration (flags win over the environment):
  LEADFLOW_DB        database: postgres://… or a SQLite path (default DATA_DIR/leadflow.db)
  LEADFLOW_ADDR      listen address (default :8080)
  LEADFLOW_DATA_DIR  data directory for the embedded database (default ./data)
`

// run is the whole program: it parses args and runs one command.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	e := env(getenv)
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return cmdServe(ctx, e, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, e, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "leadflow", version)
		return nil
	case "source":
		return cmdSource(ctx, e, rest, stdout, stderr)
	case "apikey":
		return cmdAPIKey(ctx, e, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, e, rest, stdout, stderr)
	case "model":
		return cmdModel(ctx, e, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, e, rest, stdout, stderr)
	case "team":
		return cmdTeam(ctx, e, rest, stdout, stderr)
	case "routing":
		return cmdRouting(ctx, e, rest, stdout, stderr)
	case "lead":
		return cmdLead(ctx, e, rest, stdout, stderr)
	case "gen":
		return cmdGen(ctx, e, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, e, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "leadflow: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
