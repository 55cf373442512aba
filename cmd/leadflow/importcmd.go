package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/csvimport"
	"github.com/leadflow/leadflow/internal/flow"
)

func cmdImport(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "deals" {
		return cmdImportDeals(ctx, e, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "leads" {
		fmt.Fprintln(stderr, "usage: leadflow import leads FILE.csv [--map \"Header=field,…\"] [--encoding utf-8|shift_jis] [--strict] [--json]")
		return errUsage
	}
	fs := newFlagSet("import leads", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	mapping := fs.String("map", "", `header mapping override, e.g. "E-mail=email,会社=company,備考=-" (fields: email, name, company, …)`)
	encoding := fs.String("encoding", "", "force the file encoding (utf-8, shift_jis, utf-16le, utf-16be); detected by default")
	strict := fs.Bool("strict", false, "import nothing when any row is rejected")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "leadflow import leads: give exactly one CSV file")
		return errUsage
	}
	m, err := csvimport.ParseMap(*mapping)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return leadflow.Errorf(leadflow.EINVALID, "cannot open %s: %v", pos[0], err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("reading "+pos[0]),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	res, err := csvimport.Read(f, csvimport.Options{Map: m, Encoding: *encoding, Progress: func(n int64) { _ = bar.Set64(n) }})
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *strict && len(res.Rejects) > 0 {
		printRejects(stderr, pos[0], res.Rejects)
		return leadflow.Errorf(leadflow.EINVALID, "%d rows rejected; nothing was imported (--strict)", len(res.Rejects))
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	rows := progressbar.NewOptions(len(res.Rows), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("importing leads"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	out, err := a.flow.Import(ctx, res, "cli", func(done int) { _ = rows.Set(done) })
	_ = rows.Finish()
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%s (%s): %d created, %d updated, %d rejected\n", pos[0], out.Encoding, out.Created, out.Updated, len(out.Rejected))
		printRejects(stderr, pos[0], out.Rejected)
	}
	if len(out.Rejected) > 0 {
		return leadflow.Errorf(leadflow.EINVALID, "%d rows rejected (listed above); the other rows were imported", len(out.Rejected))
	}
	return nil
}

func printRejects(w io.Writer, file string, rejects []csvimport.Reject) {
	for _, r := range rejects {
		where := fmt.Sprintf("%s:%d", file, r.Line)
		if r.Column != "" {
			where += " (" + r.Column + ")"
		}
		fmt.Fprintf(w, "  %s: %s\n", where, r.Reason)
	}
}

// cmdImportDeals: leadflow import deals FILE.csv — deals from the CRM.
// Every row is checked first; one invalid row applies nothing.
func cmdImportDeals(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import deals", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: leadflow import deals FILE.csv   (columns: external_id, email or lead_id, status open|won|lost, amount, currency, name, reason, close_date)")
		return errUsage
	}
	body, err := readFileArg(pos[0])
	if err != nil {
		return err
	}
	rows, rejected, err := flow.ParseDeals(body)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if len(rejected) > 0 {
		for _, r := range rejected {
			fmt.Fprintf(stderr, "  %s:%s: %s\n", pos[0], strings.TrimPrefix(r.Where, "line "), r.Message)
		}
		return leadflow.Errorf(leadflow.EINVALID, "%d rows are invalid; nothing was applied", len(rejected))
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	applied, failed, err := a.flow.ImportDeals(ctx, rows, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d deals applied, %d rejected\n", pos[0], applied, len(failed))
	for _, r := range failed {
		fmt.Fprintf(stderr, "  %s:%s: %s\n", pos[0], strings.TrimPrefix(r.Where, "line "), r.Message)
	}
	if len(failed) > 0 {
		return leadflow.Errorf(leadflow.EINVALID, "%d deals were not applied (listed above)", len(failed))
	}
	return nil
}
