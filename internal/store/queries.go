package store

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/leadflow/leadflow"
)

//go:embed queries
var queriesFS embed.FS

// queries holds the named SQL statements of queries/*.sql, rebound for the
// dialect. A file in queries/<dialect>/ overrides a statement of the same
// name.
type queries map[string]string

func (q *queries) load(d Dialect) error {
	m := map[string]string{}
	if err := readQueries(m, "queries", d); err != nil {
		return err
	}
	if err := readQueries(m, "queries/"+d.Name, d); err != nil {
		return err
	}
	*q = m
	return nil
}

func readQueries(m map[string]string, dir string, d Dialect) error {
	entries, err := fs.ReadDir(queriesFS, dir)
	if err != nil {
		return nil // no override directory
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		f, err := queriesFS.Open(dir + "/" + e.Name())
		if err != nil {
			return err
		}
		var name string
		var body strings.Builder
		flush := func() {
			if name != "" {
				m[name] = d.Rebind(strings.TrimSpace(body.String()))
			}
			body.Reset()
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				flush()
				name = strings.TrimSpace(rest)
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(line), "--") {
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		flush()
		f.Close()
	}
	return nil
}

// get returns the statement called name; an unknown name is a programming
// error caught by the tests.
func (q queries) get(name string) string {
	s, ok := q[name]
	if !ok {
		panic("store: unknown query " + name)
	}
	return s
}

// prepareCheck prepares every statement once so that a query that does not
// match the schema fails at start-up.
func (q queries) prepareCheck(ctx context.Context, db *sql.DB) error {
	for name, s := range q {
		st, err := db.PrepareContext(ctx, s)
		if err != nil {
			return &leadflow.Error{Code: leadflow.EINTERNAL, Message: fmt.Sprintf("query %s does not prepare", name), Err: err}
		}
		st.Close()
	}
	return nil
}
