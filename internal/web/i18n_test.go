package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCatalogKeys checks that every message key the templates and the Go
// code use exists (loadCatalogs already checks ja and en have the same).
func TestCatalogKeys(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\.T "([a-z_.\-]+)"|T\("([a-z_.\-]+)"|errorPage\([^)]*"([a-z_.]+)"\)`)
	files, _ := os.ReadDir("templates")
	var srcs []string
	for _, f := range files {
		srcs = append(srcs, "templates/"+f.Name())
	}
	gos, _ := os.ReadDir(".")
	for _, f := range gos {
		if strings.HasSuffix(f.Name(), ".go") && !strings.HasSuffix(f.Name(), "_test.go") {
			srcs = append(srcs, f.Name())
		}
	}
	n := 0
	for _, p := range srcs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2] + m[3]
			if strings.HasSuffix(key, ".") {
				continue // a prefix completed at run time (stage., done.)
			}
			n++
			for _, l := range langs {
				if _, ok := c.msgs[l][key]; !ok {
					t.Errorf("%s: key %q missing from %s.json", p, key, l)
				}
			}
		}
	}
	for _, prefix := range []string{"stage.", "role.", "done.", "touch.", "diff.", "sort."} {
		found := false
		for k := range c.msgs["en"] {
			found = found || strings.HasPrefix(k, prefix)
		}
		if !found {
			t.Errorf("no key with prefix %s", prefix)
		}
	}
	for _, s := range allStages {
		if _, ok := c.msgs["ja"]["stage."+string(s)]; !ok {
			t.Errorf("stage %s has no name", s)
		}
	}
	for _, a := range actionNames {
		if _, ok := c.msgs["ja"]["done."+a]; !ok {
			t.Errorf("action %s has no confirmation", a)
		}
	}
	if n < 100 {
		t.Errorf("found only %d keys: the scan is broken", n)
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ header, cookie, want string }{
		{"", "", "ja"},
		{"en-US,en;q=0.9", "", "en"},
		{"ja-JP,ja;q=0.9,en;q=0.5", "", "ja"},
		{"fr-FR", "", "ja"},
		{"de, en;q=0.5", "", "en"},
		{"en-US", "ja", "ja"},
		{"ja", "xx", "ja"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.header)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		if got := c.negotiate(r); got != tc.want {
			t.Errorf("negotiate(%q, cookie %q) = %s, want %s", tc.header, tc.cookie, got, tc.want)
		}
	}
}
