package segment

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/leadflow/leadflow"
)

// AttributionOf returns the UTM parameters of a message: context.campaign
// (source, medium, name, term, content) as analytics.js fills it, else the
// utm_* query parameters of context.page.url, context.page.search,
// properties.url or properties.search, the first that has any.
func AttributionOf(m Message) leadflow.Attribution {
	if c, ok := m.Context["campaign"].(map[string]any); ok {
		a := leadflow.Attribution{
			Source:   str(c["source"]),
			Medium:   str(c["medium"]),
			Campaign: str(c["name"]),
			Term:     str(c["term"]),
			Content:  str(c["content"]),
		}
		if !a.IsZero() {
			return a
		}
	}
	page, _ := m.Context["page"].(map[string]any)
	for _, s := range [...]string{str(page["url"]), str(page["search"]), str(m.Properties["url"]), str(m.Properties["search"])} {
		if a := utmOf(s); !a.IsZero() {
			return a
		}
	}
	return leadflow.Attribution{}
}

// utmOf reads the utm_* parameters of a URL or of a bare query string.
func utmOf(s string) leadflow.Attribution {
	if !strings.Contains(s, "utm_") {
		return leadflow.Attribution{}
	}
	_, query, found := strings.Cut(s, "?")
	if !found {
		query = s
	}
	query, _, _ = strings.Cut(query, "#")
	q, _ := url.ParseQuery(query) // keeps what parses
	return leadflow.Attribution{
		Source:   q.Get("utm_source"),
		Medium:   q.Get("utm_medium"),
		Campaign: q.Get("utm_campaign"),
		Term:     q.Get("utm_term"),
		Content:  q.Get("utm_content"),
	}
}

// TraitsPatch maps identify traits onto lead attributes. Segment's reserved
// traits set fields: email, name (or firstName + lastName), company (a name,
// or an object with name, industry, employee_count), title, industry,
// employees, phone, address.country and address.state/region; consent and
// unsubscribed when booleans. For Japanese names (漢字・かな) the family name
// comes first: 山田 太郎. Everything else, including firstName, lastName and
// the unused parts of address and company, is kept in Traits.
//
// A reserved trait of the wrong type (an email that is a number, employees
// that are not a count) is an EINVALID error with one Detail per trait; the
// patch returned with it is still usable and keeps such values in Traits.
func TraitsPatch(traits map[string]any) (leadflow.LeadPatch, error) {
	var p leadflow.LeadPatch
	var bad []leadflow.Detail
	keep := func(k string, v any) {
		if p.Traits == nil {
			p.Traits = map[string]any{}
		}
		p.Traits[k] = v
	}
	invalid := func(k string, v any, want string) {
		bad = append(bad, leadflow.Detail{Where: "/traits/" + k, Message: fmt.Sprintf("%s must be %s", k, want)})
		keep(k, v)
	}
	setStr := func(dst **string, k string, v any) {
		if s, ok := scalarString(v); ok {
			*dst = &s
		} else if v != nil {
			invalid(k, v, "a string")
		}
	}
	// Nested objects first, so that top-level traits override them.
	if v, ok := traits["company"]; ok {
		companyTrait(&p, v, keep, invalid)
	}
	if v, ok := traits["address"]; ok {
		addressTrait(&p, v, keep)
	}
	var first, last string
	for k, v := range traits {
		switch k {
		case "company", "address":
		case "email":
			setStr(&p.Email, k, v)
		case "name":
			setStr(&p.Name, k, v)
		case "title":
			setStr(&p.Title, k, v)
		case "industry":
			setStr(&p.Industry, k, v)
		case "phone":
			setStr(&p.Phone, k, v)
		case "country":
			setStr(&p.Country, k, v)
		case "region":
			setStr(&p.Region, k, v)
		case "state":
			if _, ok := traits["region"]; ok {
				keep(k, v)
			} else {
				setStr(&p.Region, k, v)
			}
		case "employees", "employee_count", "employeeCount", "numberOfEmployees":
			if k != "employees" && traits["employees"] != nil {
				keep(k, v)
			} else if n, ok := count(v); ok {
				p.Employees = &n
			} else if v != nil {
				invalid(k, v, "a count of employees")
			}
		case "consent", "unsubscribed":
			b, ok := v.(bool)
			if !ok {
				keep(k, v)
			} else if k == "consent" {
				p.Consent = &b
			} else {
				p.Unsubscribed = &b
			}
		case "firstName", "first_name":
			first, _ = scalarString(v)
			keep(k, v)
		case "lastName", "last_name":
			last, _ = scalarString(v)
			keep(k, v)
		default:
			keep(k, v)
		}
	}
	if p.Name == nil {
		if n := fullName(strings.TrimSpace(first), strings.TrimSpace(last)); n != "" {
			p.Name = &n
		}
	}
	if p.Email != nil {
		e := strings.TrimSpace(*p.Email)
		p.Email = &e
	}
	if len(bad) > 0 {
		return p, &leadflow.Error{Code: leadflow.EINVALID, Where: bad[0].Where, Message: "some traits have the wrong type", Details: bad}
	}
	return p, nil
}

// companyTrait reads the company trait: a name, or Segment's object.
func companyTrait(p *leadflow.LeadPatch, v any, keep func(string, any), invalid func(string, any, string)) {
	switch c := v.(type) {
	case nil:
	case string:
		p.Company = &c
	case map[string]any:
		rest := map[string]any{}
		for k, e := range c {
			switch k {
			case "name":
				if s, ok := scalarString(e); ok {
					p.Company = &s
					continue
				}
			case "industry":
				if s, ok := scalarString(e); ok {
					p.Industry = &s
					continue
				}
			case "employee_count", "employees", "employeeCount":
				if n, ok := count(e); ok {
					p.Employees = &n
					continue
				}
			}
			rest[k] = e
		}
		if len(rest) > 0 {
			keep("company", rest)
		}
	default:
		invalid("company", v, "a string or an object")
	}
}

// addressTrait reads country and region from Segment's address object.
func addressTrait(p *leadflow.LeadPatch, v any, keep func(string, any)) {
	a, ok := v.(map[string]any)
	if !ok {
		keep("address", v)
		return
	}
	rest := map[string]any{}
	for k, e := range a {
		s, isStr := scalarString(e)
		switch {
		case k == "country" && isStr:
			p.Country = &s
		case isStr && (k == "region" || (k == "state" && a["region"] == nil)):
			p.Region = &s
		default:
			rest[k] = e
		}
	}
	if len(rest) > 0 {
		keep("address", rest)
	}
}

// GroupPatch maps group (account) traits onto the company attributes of the
// lead: name, industry and employees (or employee_count). The other traits
// describe the company, not the person, so they are kept as one object
// under Traits["group"] rather than mixed with the person's traits. Values
// of the wrong type are kept there too.
func GroupPatch(traits map[string]any) leadflow.LeadPatch {
	var p leadflow.LeadPatch
	rest := map[string]any{}
	for k, v := range traits {
		switch k {
		case "name":
			if s, ok := scalarString(v); ok {
				p.Company = &s
				continue
			}
		case "industry":
			if s, ok := scalarString(v); ok {
				p.Industry = &s
				continue
			}
		case "employees", "employee_count", "employeeCount":
			if n, ok := count(v); ok {
				if k == "employees" || traits["employees"] == nil {
					p.Employees = &n
				}
				continue
			}
		}
		rest[k] = v
	}
	if len(rest) > 0 {
		p.Traits = map[string]any{"group": rest}
	}
	return p
}

// fullName joins first and last names, family name first when either looks
// Japanese (or Chinese): 山田 太郎, but Taro Yamada.
func fullName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	case looksJapanese(first) || looksJapanese(last):
		return last + " " + first
	}
	return first + " " + last
}

// looksJapanese reports whether s has kanji, hiragana or katakana.
func looksJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// scalarString reads a string, or a number as text (phone numbers and ids
// often arrive as numbers).
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// count reads a non-negative whole number: 120, "120" or "1,200".
func count(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		if v < 0 || v > math.MaxInt32 || v != math.Trunc(v) {
			return 0, false
		}
		return int(v), true
	case string:
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(v), ",", ""))
		if err != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// str returns v when it is a string.
func str(v any) string {
	s, _ := v.(string)
	return s
}
