package csvimport

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/leadflow/leadflow"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Target field names, as accepted by Options.Map and --map.
const (
	fieldEmail        = "email"
	fieldName         = "name"
	fieldLastName     = "last_name"
	fieldFirstName    = "first_name"
	fieldCompany      = "company"
	fieldTitle        = "title"
	fieldDepartment   = "department"
	fieldIndustry     = "industry"
	fieldEmployees    = "employees"
	fieldPhone        = "phone"
	fieldCountry      = "country"
	fieldRegion       = "region"
	fieldConsent      = "consent"
	fieldUnsubscribed = "unsubscribed"

	// ignore is the Map value that drops a column.
	ignore = "-"
	// trait is what Result.Columns reports for a column kept as a custom
	// trait under its own header.
	trait = "trait"
)

// aliases lists, per field, the column headers recognised without --map.
// Headers are compared after normHeader, so "E-mail", "e_mail" and
// "ＥＭＡＩＬ" are one alias; the spellings here are the ones people see in
// trade-show lists and in HubSpot and Salesforce exports (English and
// Japanese UI, report labels and API names). The order is Fields' order.
var aliases = []alias{
	{fieldEmail, []string{
		"Email", "E-mail", "Email Address", "E-mail Address", "Mail", "Mail Address",
		"Work Email", "Business Email", "Primary Email",
		"メールアドレス", "メール", "Eメール", "Eメールアドレス", "電子メール",
	}},
	{fieldName, []string{
		"Name", "Full Name", "Contact Name", "Lead Name",
		"氏名", "名前", "お名前", "氏名(漢字)", "お名前(漢字)", "担当者名", "ご担当者名",
	}},
	{fieldLastName, []string{"Last Name", "Surname", "Family Name", "姓", "苗字", "名字", "姓(漢字)"}},
	{fieldFirstName, []string{"First Name", "Given Name", "名", "名(漢字)"}},
	{fieldCompany, []string{
		"Company", "Company Name", "Account Name", "Company / Account", "Associated Company",
		"Organization", "Organisation",
		"会社名", "企業名", "所属", "勤務先", "会社", "貴社名", "御社名", "法人名", "取引先名",
	}},
	{fieldTitle, []string{"Title", "Job Title", "Position", "役職", "役職名", "肩書", "肩書き"}},
	{fieldDepartment, []string{"Department", "Dept", "部署", "部署名", "部門", "所属部署"}},
	{fieldIndustry, []string{"Industry", "業種", "業界"}},
	{fieldEmployees, []string{
		"Employees", "Number of Employees", "No. of Employees", "NumEmployees", "Employee Count",
		"Company Size", "Headcount",
		"従業員数", "社員数", "従業員規模",
	}},
	{fieldPhone, []string{
		"Phone", "Phone Number", "Telephone", "TEL", "Mobile", "Mobile Phone", "Mobile Phone Number",
		"電話番号", "電話", "携帯電話", "携帯電話番号", "携帯",
	}},
	{fieldCountry, []string{"Country", "Country/Region", "Mailing Country", "国", "国名", "国/地域"}},
	{fieldRegion, []string{
		"State", "State/Region", "State/Province", "Mailing State/Province", "Province", "Prefecture",
		"都道府県", "地域",
	}},
	{fieldConsent, []string{
		"Consent", "Opt In", "Email Opt In", "Marketing Consent", "メール配信同意", "配信同意", "配信許可",
	}},
	{fieldUnsubscribed, []string{
		"Unsubscribed", "Email Opt Out", "Has Opted Out of Email", "Unsubscribed from all email",
		"配信停止", "メール配信停止", "配信拒否", "メール配信拒否", "メール送信除外",
	}},
}

// alias is one field and the headers that mean it.
type alias struct {
	field   string
	headers []string
}

// aliasIndex maps a normalised header to its field.
var aliasIndex = func() map[string]string {
	m := map[string]string{}
	for _, a := range aliases {
		for _, h := range a.headers {
			m[normHeader(h)] = a.field
		}
	}
	return m
}()

// Fields returns the target field names, in a stable order, for --map help.
// department, first_name and last_name have no Lead column: they are kept
// as traits (first_name and last_name also build the name when it is missing).
func Fields() []string {
	out := make([]string, len(aliases))
	for i, a := range aliases {
		out[i] = a.field
	}
	return out
}

// Aliases returns the headers recognised for field without --map, for
// documentation; nil for an unknown field.
func Aliases(field string) []string {
	for _, a := range aliases {
		if a.field == field {
			return slices.Clone(a.headers)
		}
	}
	return nil
}

func validTarget(f string) bool {
	return f == ignore || slices.ContainsFunc(aliases, func(a alias) bool { return a.field == f })
}

// normHeader folds width and case and drops everything but letters and
// digits, so spacing, punctuation and full-width forms do not matter.
func normHeader(s string) string {
	s = strings.ToLower(norm.NFC.String(width.Fold.String(s)))
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseMap parses a --map flag value such as "E-mail=email,会社=company".
// Pairs are comma-separated; the last "=" splits header from field, so a
// header may contain "=" but not ",". A field of "-" ignores the column.
func ParseMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.LastIndexByte(pair, '=')
		if i < 0 {
			return nil, leadflow.Invalidf("--map", "%q: want Header=field", pair)
		}
		h, f := strings.TrimSpace(pair[:i]), strings.ToLower(strings.TrimSpace(pair[i+1:]))
		if h == "" {
			return nil, leadflow.Invalidf("--map", "%q: empty header", pair)
		}
		if !validTarget(f) {
			return nil, unknownField(f)
		}
		for k := range m {
			if strings.EqualFold(k, h) {
				return nil, leadflow.Invalidf("--map", "header %q mapped twice", h)
			}
		}
		m[h] = f
	}
	return m, nil
}

func unknownField(f string) error {
	return leadflow.Invalidf("--map", "unknown field %q (want one of %s, or - to ignore the column)",
		f, strings.Join(Fields(), ", "))
}

// column is how one CSV column is read: into field, or into the trait named
// header when field is trait.
type column struct {
	header string
	field  string
}

// mapColumns decides the field of every header cell. Explicit overrides
// win; otherwise the alias table; otherwise the column is a custom trait.
// A blank header cannot name a trait, so its column is ignored.
func mapColumns(header []string, line int, override map[string]string) ([]column, error) {
	where := fmt.Sprintf("line %d", line)
	cols := make([]column, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		cols[i] = column{header: h, field: trait}
		if h == "" {
			cols[i].field = ignore
		} else if f, ok := aliasIndex[normHeader(h)]; ok {
			cols[i].field = f
		}
		if _, ok := parseEmail(clean(h)); ok {
			return nil, leadflow.Invalidf(where, "no header row: the first row looks like data (%q); add a header such as Email,Name,Company", h)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(override)) { // sorted: the same error every run
		f := strings.ToLower(strings.TrimSpace(override[k]))
		if !validTarget(f) {
			return nil, unknownField(f)
		}
		found := false
		for i := range cols {
			if strings.EqualFold(cols[i].header, strings.TrimSpace(k)) {
				cols[i].field, found = f, true
			}
		}
		if !found {
			return nil, leadflow.Invalidf("--map", "no column %q in the header (%s)", k, headerList(cols))
		}
	}
	if !slices.ContainsFunc(cols, func(c column) bool { return c.field == fieldEmail }) {
		return nil, leadflow.Invalidf(where, "no email column in the header (%s): name it Email or メールアドレス, or pass --map 'Header=email'", headerList(cols))
	}
	return cols, nil
}

func headerList(cols []column) string {
	hs := make([]string, len(cols))
	for i, c := range cols {
		hs[i] = fmt.Sprintf("%q", c.header)
	}
	return strings.Join(hs, ", ")
}
