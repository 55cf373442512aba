package csvimport

import (
	"maps"
	"strings"

	"github.com/leadflow/leadflow"
)

// Reject reasons. Tests and callers may match on them; keep them stable.
const (
	reasonMissingEmail = "missing email"
	reasonBadEmail     = "invalid email address"
	reasonBadEmployees = `not a number of employees (want e.g. 250, "1,000", "100名" or "100-499")`
	reasonBadBool      = "not a yes/no value (want true/false, yes/no, 1/0, はい/いいえ)"
	reasonBadText      = "text not valid in the file's encoding"
)

// builder turns records into rows and rejects.
type builder struct {
	cols    []column
	res     *Result
	dec     *decoder
	byEmail map[string]int // email → index in res.Rows
}

// add reads one record; fieldPos is csv.Reader.FieldPos for it.
func (b *builder) add(rec []string, fieldPos func(int) (line, col int)) {
	if blank(rec) {
		return // Excel writes ",,,," for empty rows below the data
	}
	var (
		p           leadflow.LeadPatch
		first, last string
		rejects     []Reject
		emailSeen   bool
		emailHeader string
	)
	setTrait := func(k, v string) {
		if p.Traits == nil {
			p.Traits = map[string]any{}
		}
		if _, ok := p.Traits[k]; !ok {
			p.Traits[k] = v
		}
	}
	for i, c := range b.cols {
		if c.field == fieldEmail && emailHeader == "" {
			emailHeader = c.header
		}
		raw := rec[i]
		if c.field == ignore || raw == "" {
			continue
		}
		reject := func(reason string) {
			line, _ := fieldPos(i)
			rejects = append(rejects, Reject{Line: line, Column: c.header,
				Value: strings.ToValidUTF8(strings.TrimSpace(raw), "\ufffd"), Reason: reason})
		}
		if b.dec.badText(raw) {
			reject(reasonBadText)
			emailSeen = emailSeen || c.field == fieldEmail
			continue
		}
		v := clean(raw)
		if v == "" {
			continue
		}
		// When several columns map to one field (Phone and Mobile), the
		// first non-empty one in column order wins.
		switch c.field {
		case fieldEmail:
			if emailSeen {
				continue
			}
			emailSeen = true
			if e, ok := parseEmail(v); ok {
				p.Email = &e
			} else {
				reject(reasonBadEmail)
			}
		case fieldName:
			setOnce(&p.Name, v)
		case fieldLastName:
			if last == "" {
				last = v
				setTrait(fieldLastName, v)
			}
		case fieldFirstName:
			if first == "" {
				first = v
				setTrait(fieldFirstName, v)
			}
		case fieldCompany:
			setOnce(&p.Company, v)
		case fieldTitle:
			setOnce(&p.Title, v)
		case fieldDepartment:
			setTrait(fieldDepartment, v)
		case fieldIndustry:
			setOnce(&p.Industry, v)
		case fieldEmployees:
			if p.Employees != nil {
				continue
			}
			if n, ok := parseEmployees(v); ok {
				p.Employees = &n
			} else {
				reject(reasonBadEmployees)
			}
		case fieldPhone:
			setOnce(&p.Phone, v)
		case fieldCountry:
			setOnce(&p.Country, v)
		case fieldRegion:
			setOnce(&p.Region, v)
		case fieldConsent, fieldUnsubscribed:
			dst := &p.Consent
			if c.field == fieldUnsubscribed {
				dst = &p.Unsubscribed
			}
			if *dst != nil {
				continue
			}
			if x, ok := parseBool(v); ok {
				*dst = &x
			} else {
				reject(reasonBadBool)
			}
		case trait:
			setTrait(c.header, v)
		}
	}
	if !emailSeen {
		line, _ := fieldPos(0)
		rejects = append(rejects, Reject{Line: line, Column: emailHeader, Reason: reasonMissingEmail})
	}
	if len(rejects) > 0 {
		b.res.Rejects = append(b.res.Rejects, rejects...)
		return
	}
	if p.Name == nil && (first != "" || last != "") {
		setOnce(&p.Name, joinName(last, first))
	}
	if i, ok := b.byEmail[*p.Email]; ok {
		merge(&b.res.Rows[i].Patch, p)
		b.res.Merged++
		return
	}
	line, _ := fieldPos(0)
	b.byEmail[*p.Email] = len(b.res.Rows)
	b.res.Rows = append(b.res.Rows, Row{Line: line, Patch: p})
}

func setOnce(dst **string, v string) {
	if *dst == nil {
		*dst = &v
	}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// merge copies the set fields of src over dst: the later row's non-empty
// values win, its empty cells keep what an earlier row said.
func merge(dst *leadflow.LeadPatch, src leadflow.LeadPatch) {
	for _, f := range []struct{ d, s **string }{
		{&dst.Name, &src.Name}, {&dst.Company, &src.Company}, {&dst.Title, &src.Title},
		{&dst.Industry, &src.Industry}, {&dst.Country, &src.Country},
		{&dst.Region, &src.Region}, {&dst.Phone, &src.Phone},
	} {
		if *f.s != nil {
			*f.d = *f.s
		}
	}
	if src.Employees != nil {
		dst.Employees = src.Employees
	}
	if src.Consent != nil {
		dst.Consent = src.Consent
	}
	if src.Unsubscribed != nil {
		dst.Unsubscribed = src.Unsubscribed
	}
	if len(src.Traits) > 0 {
		if dst.Traits == nil {
			dst.Traits = map[string]any{}
		}
		maps.Copy(dst.Traits, src.Traits)
	}
}
