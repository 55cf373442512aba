// Package csvimport parses lead lists from CSV files: trade-show and seminar
// attendee lists, and HubSpot or Salesforce exports, in English or Japanese.
//
// It is pure: Read turns a file into validated lead patches and a list of
// rejected rows, and the caller upserts the patches by email in one
// transaction. The decisions it makes:
//
//   - Encoding: a BOM (UTF-8, UTF-16LE/BE) decides; otherwise the text is
//     UTF-8 if it is valid UTF-8 and Shift_JIS (CP932, what Excel writes in
//     Japan) if not, unless Options.Encoding forces one.
//   - Headers are matched to fields in English and Japanese, ignoring case,
//     width, spaces and punctuation (see Fields and Aliases); columns that
//     match nothing become custom traits under their original header.
//   - A row with a missing or invalid email, an unreadable employee count or
//     yes/no value, or undecodable text is rejected whole: Rejects lists every
//     problem found (several entries may share a line) and the row is not in
//     Rows, so the operator can fix the rows and import them again.
//   - Rows repeating an email are merged into the first row with it: later
//     non-empty values override earlier ones, and Result.Merged counts them.
//     A list exported twice or a visitor scanned at two booths is one lead.
//   - A malformed file (bad quoting, a row with a different number of fields
//     than the header, no header, no email column) is an EINVALID error and
//     nothing is returned, so nothing is half-imported.
//
// Line numbers are physical lines of the file, so a quoted value spanning
// lines does not shift the numbers of the rows after it.
package csvimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/leadflow/leadflow"
)

// Options tune Read. The zero value detects everything.
type Options struct {
	// Map overrides the header mapping: CSV header (exact, compared
	// case-insensitively) → field name from Fields, or "-" to ignore the
	// column. Headers not in Map are mapped by alias as usual.
	Map map[string]string
	// Progress, when set, is called with the number of raw bytes read so far,
	// about every 64 KiB and once at the end, to drive a progress bar
	// against the file size.
	Progress func(bytesRead int64)
	// Encoding is "" to detect, or forces "utf-8" or "shift_jis" (CP932;
	// aliases sjis, cp932, windows-31j). "utf-16le" and "utf-16be" are
	// accepted for files without a BOM.
	Encoding string
}

// Row is one accepted lead.
type Row struct {
	// Line is the physical line where the row starts; for merged duplicates,
	// the line of the first row with the email.
	Line int
	// Patch holds the non-empty values of the row. Patch.Email is always
	// set, lowercased and trimmed. department, first_name, last_name and
	// unmapped columns are in Patch.Traits as strings.
	Patch leadflow.LeadPatch
}

// Reject is one problem that kept a row out of Rows.
type Reject struct {
	Line   int    // physical line of the offending value (of the row for a missing email)
	Column string // the CSV header of the offending column
	Value  string // the value as found, trimmed
	Reason string // human-readable, e.g. "invalid email address"
}

// Result is a parsed file.
type Result struct {
	Rows    []Row
	Rejects []Reject
	// Columns maps each header to the field chosen for it: a name from
	// Fields, "trait" for a custom trait, or "-" for an ignored column.
	Columns map[string]string
	// Encoding is the encoding used: "utf-8", "shift_jis", "utf-16le" or
	// "utf-16be".
	Encoding string
	// Merged counts rows folded into an earlier row with the same email.
	Merged int
}

// Read parses a CSV lead list. On error the returned *leadflow.Error
// (EINVALID, Where "line N") describes the first malformation and no rows are
// returned; I/O failures are EINTERNAL.
func Read(r io.Reader, opts Options) (*Result, error) {
	enc, ok := canonicalEncoding(opts.Encoding)
	if !ok {
		return nil, leadflow.Invalidf("encoding", "unknown encoding %q (want utf-8 or shift_jis)", opts.Encoding)
	}
	if opts.Progress != nil {
		r = &progressReader{r: r, fn: opts.Progress}
	}
	dec, err := newDecoder(r, enc)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(dec)
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, leadflow.Invalidf("line 1", "empty file: want a header row and one row per lead")
	} else if err != nil {
		return nil, readError(err, nil, 0)
	}
	hline, _ := cr.FieldPos(0)
	for i, h := range header {
		if dec.badText(h) {
			line, _ := cr.FieldPos(i)
			return nil, leadflow.Invalidf(fmt.Sprintf("line %d", line),
				"header is not valid %s text; pass the file's encoding explicitly", dec.encoding())
		}
	}
	cols, err := mapColumns(header, hline, opts.Map)
	if err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = len(header)

	res := &Result{Columns: make(map[string]string, len(cols))}
	for _, c := range cols {
		if c.header != "" {
			res.Columns[c.header] = c.field
		}
	}
	b := &builder{cols: cols, res: res, dec: dec, byEmail: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, readError(err, rec, len(header))
		}
		b.add(rec, cr.FieldPos)
	}
	res.Encoding = dec.encoding()
	return res, nil
}

// readError turns a csv error into an EINVALID error located at its line.
func readError(err error, rec []string, want int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return leadflow.Internal(err, "reading CSV")
	}
	where := fmt.Sprintf("line %d", pe.Line)
	var msg string
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		msg = fmt.Sprintf("row has %d fields but the header has %d", len(rec), want)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = fmt.Sprintf(`column %d: a " inside an unquoted value; quote the value and double the " ("")`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = fmt.Sprintf(`column %d: a quoted value is not closed, or has a stray " after its closing quote`, pe.Column)
	default:
		msg = pe.Err.Error()
	}
	if pe.StartLine != pe.Line {
		msg += fmt.Sprintf(" (the row starts on line %d)", pe.StartLine)
	}
	return &leadflow.Error{Code: leadflow.EINVALID, Where: where, Message: msg, Err: err}
}
