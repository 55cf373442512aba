package csvimport

import (
	"maps"
	"testing"
)

func TestParseEmployees(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"250", 250, true},
		{"0", 0, true},
		{"1,000", 1000, true},
		{"１０００", 1000, true},
		{"１，０００名", 1000, true},
		{"100名", 100, true},
		{"100人", 100, true},
		{"約300", 300, true},
		{"約３００名", 300, true},
		{"~300", 300, true},
		{"100-499", 100, true},
		{"100 - 499", 100, true},
		{"100〜499", 100, true},
		{"100～499", 100, true},
		{"100名～499名", 100, true},
		{"1000+", 1000, true},
		{"10,001+", 10001, true},
		{"1000人以上", 1000, true},
		{"1.2万", 12000, true},
		{"約1万人", 10000, true},
		{"大企業", 0, false},
		{"-5", 0, false},
		{"abc", 0, false},
		{"100-abc", 0, false},
		{"499-100", 0, false},
		{"1.5", 0, false},
		{"名", 0, false},
		{"03-1234-5678", 0, false},
		{"0312345678", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseEmployees(clean(tt.in))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseEmployees(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		want, ok bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"Yes", true, true}, {"1", true, true},
		{"はい", true, true}, {"✓", true, true}, {"○", true, true},
		{"false", false, true}, {"No", false, true}, {"0", false, true}, {"いいえ", false, true}, {"×", false, true},
		{"maybe", false, false}, {"2", false, false}, {"-", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseBool(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Taro@Example.CO.JP", "taro@example.co.jp", true},
		{"first.last+tag@sub.example.com", "first.last+tag@sub.example.com", true},
		{"MAILTO:a@x.example", "a@x.example", true},
		{"a@localhost", "", false},
		{"a@.example", "", false},
		{"a@example.", "", false},
		{"a@@x.example", "", false},
		{"Ann <a@x.example>", "", false},
		{"<a@x.example>", "", false},
		{"a b@x.example", "", false},
		{"a@x.example,b@x.example", "", false},
		{"no-at-sign", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseEmail(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestJoinName(t *testing.T) {
	t.Parallel()
	tests := []struct{ last, first, want string }{
		{"山田", "太郎", "山田 太郎"},
		{"ヤマダ", "タロウ", "ヤマダ タロウ"},
		{"Yamada", "太郎", "Yamada 太郎"},
		{"Doe", "Jane", "Jane Doe"},
		{"Doe", "", "Doe"},
		{"", "Jane", "Jane"},
	}
	for _, tt := range tests {
		if got := joinName(tt.last, tt.first); got != tt.want {
			t.Errorf("joinName(%q, %q) = %q, want %q", tt.last, tt.first, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"  plain  ", "plain"},
		{"\u3000ＡＢＣ１２３＠\u3000", "ABC123@"},
		{"ｶﾌﾞｼｷｶﾞｲｼｬ", "カブシキガイシャ"},
		{"株式会社　テスト", "株式会社 テスト"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAliases(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, a := range aliases {
		for _, h := range a.headers {
			n := normHeader(h)
			if f, ok := seen[n]; ok && f != a.field {
				t.Errorf("header %q (%q) maps to both %s and %s", h, n, f, a.field)
			}
			seen[n] = a.field
		}
	}
	for _, h := range []string{"E-MAIL", "email_address", "ｅ－ｍａｉｌ", "ﾒｰﾙｱﾄﾞﾚｽ", "Ｅメール", "国・地域", "  Job  Title "} {
		if _, ok := aliasIndex[normHeader(h)]; !ok {
			t.Errorf("header %q (%q) not recognised", h, normHeader(h))
		}
	}
}

func TestParseMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want map[string]string
		err  bool
	}{
		{"", map[string]string{}, false},
		{"E-mail=email,会社=company", map[string]string{"E-mail": "email", "会社": "company"}, false},
		{" E-mail = EMAIL , Memo=- ,", map[string]string{"E-mail": "email", "Memo": "-"}, false},
		{"a=b=email", map[string]string{"a=b": "email"}, false},
		{"E-mail", nil, true},
		{"=email", nil, true},
		{"E-mail=mail", nil, true},
		{"Mail=email,MAIL=phone", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMap(tt.in)
			if (err != nil) != tt.err || !maps.Equal(got, tt.want) {
				t.Errorf("ParseMap(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}
