package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

const modelUsage = `usage:
  leadflow model validate FILE          check a model; exit 1 with line:column errors when invalid
  leadflow model apply FILE [--no-wait] make FILE the active model and rescore every lead
  leadflow model show [--version N]     print the active (or a given) version
  leadflow model diff [FILE] [--from N] [--to N]   rule-level changes (FILE: against the active model)
  leadflow model history                every applied version
  leadflow model backtest FILE --from DATE --to DATE [--thresholds 10:150:5] [--capacity N] [--beta 1] [--format table|json|csv]
`

func cmdModel(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, modelUsage)
		return errUsage
	}
	sub := args[0]
	if sub == "backtest" {
		return cmdBacktest(ctx, e, args[1:], stdout, stderr)
	}
	fs := newFlagSet("model "+sub, stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	noWait := fs.Bool("no-wait", false, "apply: return at once and leave the rescore to the server's background job")
	ver := fs.Int("version", 0, "show: the version to print")
	from := fs.Int("from", 0, "diff: older version")
	to := fs.Int("to", 0, "diff: newer version (default: active)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch sub {
	case "validate":
		if len(pos) != 1 {
			fmt.Fprint(stderr, modelUsage)
			return errUsage
		}
		src, err := readFileArg(pos[0])
		if err != nil {
			return err
		}
		m, err := scoring.Compile(filepath.Base(pos[0]), src)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: model %q is valid (%d rules)\n", pos[0], m.Name, len(m.Rules()))
		return nil
	case "apply", "show", "diff", "history":
	default:
		fmt.Fprint(stderr, modelUsage)
		return errUsage
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "apply":
		if len(pos) != 1 {
			fmt.Fprint(stderr, modelUsage)
			return errUsage
		}
		src, err := readFileArg(pos[0])
		if err != nil {
			return err
		}
		prev, _, err := a.flow.ActiveModel(ctx)
		if err != nil {
			return err
		}
		mv, run, err := a.flow.ApplyModel(ctx, filepath.Base(pos[0]), src, "cli")
		if err != nil {
			return err
		}
		next, _ := scoring.Compile(pos[0], src)
		fmt.Fprintf(stdout, "model %q is now active as version %d\n", mv.Name, mv.Version)
		for _, c := range scoring.Diff(prev.Model, next) {
			fmt.Fprintln(stdout, "  "+c.String())
		}
		if *noWait {
			fmt.Fprintf(stdout, "rescore run %d queued for %d leads (GET /api/v1/model/rescores/%d)\n", run.ID, run.Total, run.ID)
			return nil
		}
		return rescoreWithProgress(ctx, a, run, stdout, stderr)
	case "show":
		var mv *store.ModelVersion
		if *ver > 0 {
			mv, err = a.db.ModelByVersion(ctx, *ver)
		} else {
			_, mv, err = a.flow.ActiveModel(ctx)
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, mv)
		}
		fmt.Fprintf(stdout, "# version %d, applied by %s at %s%s\n%s", mv.Version, mv.CreatedBy,
			mv.CreatedAt.Format(time.RFC3339), activeMark(mv.Active), mv.Source)
		return nil
	case "history":
		versions, err := a.db.ModelVersions(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, versions)
		}
		fmt.Fprintf(stdout, "%-8s %-20s %-22s %-20s %s\n", "VERSION", "NAME", "APPLIED AT", "BY", "")
		for _, v := range versions {
			fmt.Fprintf(stdout, "%-8d %-20s %-22s %-20s %s\n", v.Version, v.Name, v.CreatedAt.Format(time.RFC3339), v.CreatedBy, activeMark(v.Active))
		}
		return nil
	default: // diff
		act, mv, err := a.flow.ActiveModel(ctx)
		if err != nil {
			return err
		}
		var older, newer *scoring.Model
		if len(pos) == 1 {
			src, err := readFileArg(pos[0])
			if err != nil {
				return err
			}
			if newer, err = scoring.Compile(filepath.Base(pos[0]), src); err != nil {
				return err
			}
			older = act.Model
		} else {
			t := *to
			if t == 0 {
				t = mv.Version
			}
			f := *from
			if f == 0 {
				f = t - 1
			}
			if older, err = compileVersion(ctx, a.db, f); err != nil {
				return err
			}
			if newer, err = compileVersion(ctx, a.db, t); err != nil {
				return err
			}
		}
		changes := scoring.Diff(older, newer)
		if *asJSON {
			return writeJSON(stdout, changes)
		}
		if len(changes) == 0 {
			fmt.Fprintln(stdout, "no changes")
		}
		for _, c := range changes {
			fmt.Fprintln(stdout, c.String())
		}
		return nil
	}
}

func activeMark(active bool) string {
	if active {
		return " (active)"
	}
	return ""
}

func compileVersion(ctx context.Context, db *store.DB, v int) (*scoring.Model, error) {
	if v <= 0 {
		return nil, nil
	}
	mv, err := db.ModelByVersion(ctx, v)
	if err != nil {
		return nil, err
	}
	return scoring.Compile(fmt.Sprintf("model v%d", v), []byte(mv.Source))
}

// rescoreWithProgress runs the rescore in this process (the same code the
// server's background job runs; a run already finished is a no-op) and
// draws a progress bar from the run's saved progress.
func rescoreWithProgress(ctx context.Context, a *app, run *store.RescoreRun, stdout, stderr io.Writer) error {
	bar := progressbar.NewOptions64(max(run.Total, 1), progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("rescoring leads"), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	done := make(chan error, 1)
	go func() { done <- a.flow.Rescore(ctx, run.ID) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			r, err := a.db.RescoreRunByID(ctx, run.ID)
			if err != nil {
				return err
			}
			_ = bar.Finish()
			fmt.Fprintf(stdout, "rescored %d leads, %d changed score or stage (%s)\n", r.Done, r.Changed, r.Status)
			return nil
		case <-tick.C:
			if r, err := a.db.RescoreRunByID(ctx, run.ID); err == nil {
				_ = bar.Set64(r.Done)
			}
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return leadflow.Internal(err, "encode json")
	}
	return nil
}
