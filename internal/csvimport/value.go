package csvimport

import (
	"math"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// maxEmployees bounds a plausible head count; anything larger is more likely
// a phone number or a revenue figure in the wrong column than a company.
const maxEmployees = 10_000_000

// clean trims a cell and folds full-width ASCII (ＡＢＣ１２３＠) to
// half-width and half-width katakana to full-width, as Japanese forms mix
// both; NFC then joins the voiced marks that half-width katakana writes as
// separate characters (ｶﾞ → ガ). Pure ASCII, the common case, skips both.
func clean(s string) string {
	ascii, wide := true, false
	for _, r := range s {
		if r >= utf8.RuneSelf {
			ascii = false
			if k := width.LookupRune(r).Kind(); k == width.EastAsianFullwidth || k == width.EastAsianHalfwidth {
				wide = true
				break
			}
		}
	}
	switch {
	case ascii:
		return strings.TrimSpace(s)
	case wide:
		s = width.Fold.String(s)
	}
	return strings.TrimSpace(norm.NFC.String(s))
}

// parseEmail lowercases and checks a cleaned address. It accepts only a bare
// addr-spec (no display name or angle brackets) with a dotted domain, and
// strips a "mailto:" left over from a spreadsheet hyperlink.
func parseEmail(v string) (string, bool) {
	v = strings.ToLower(v)
	v = strings.TrimPrefix(v, "mailto:")
	at := strings.LastIndexByte(v, '@')
	if at <= 0 {
		return "", false
	}
	domain := v[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return "", false
	}
	return v, true
}

// employeePrefixes and employeeSuffixes are the qualifiers people put around
// a head count; they do not change the number taken.
var (
	employeePrefixes = []string{"約", "およそ", "approx.", "approx", "about", "ca.", "~", "≒"}
	employeeSuffixes = []string{"以上", "程度", "前後", "名", "人", "+", "employees", "people"}
)

// parseEmployees reads a cleaned head count: "1,000", "100名", "約300",
// "1000+", "1.2万", or a range ("100-499", "100〜499") whose lower bound is
// taken, since a size band's floor is the only number it promises.
func parseEmployees(v string) (int, bool) {
	s := strings.ToLower(strings.Join(strings.Fields(v), ""))
	for _, p := range employeePrefixes {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	lo, hi, isRange := splitRange(s)
	n, ok := parseCount(lo)
	if !ok {
		return 0, false
	}
	if isRange && hi != "" {
		m, ok := parseCount(hi)
		if !ok || m < n {
			return 0, false
		}
	}
	return n, true
}

// splitRange splits "100-499" at its dash or wave; a leading sign is not a
// range.
func splitRange(s string) (lo, hi string, ok bool) {
	for i, r := range s {
		if i > 0 && strings.ContainsRune("-~〜–—", r) {
			return s[:i], s[i+utf8.RuneLen(r):], true
		}
	}
	return s, "", false
}

// parseCount reads one non-negative count with optional thousands commas,
// unit suffixes and a 万 (ten thousand) multiplier.
func parseCount(s string) (int, bool) {
	for trimmed := true; trimmed; {
		trimmed = false
		for _, suf := range employeeSuffixes {
			if strings.HasSuffix(s, suf) && len(s) > len(suf) {
				s, trimmed = s[:len(s)-len(suf)], true
			}
		}
	}
	s = strings.ReplaceAll(s, ",", "")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	if num, ok := strings.CutSuffix(s, "万"); ok {
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f*10000 > maxEmployees {
			return 0, false
		}
		return int(math.Round(f * 10000)), true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxEmployees {
		return 0, false
	}
	return n, true
}

// parseBool reads the yes/no spellings of exports and Japanese forms,
// including the check and circle marks people type into a cell.
func parseBool(v string) (b, ok bool) {
	switch strings.ToLower(v) {
	case "true", "t", "yes", "y", "1", "on", "はい", "✓", "✔", "○", "◯":
		return true, true
	case "false", "f", "no", "n", "0", "off", "いいえ", "×", "✗":
		return false, true
	}
	return false, false
}

// joinName builds a full name from its parts: family name first when either
// part is written in Japanese script, given name first otherwise.
func joinName(last, first string) string {
	switch {
	case last == "":
		return first
	case first == "":
		return last
	case isJapanese(last) || isJapanese(first):
		return last + " " + first
	}
	return first + " " + last
}

func isJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}
