package segment_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

func ptr[T any](v T) *T { return &v }

func traitsOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTraitsPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		traits string
		want   leadflow.LeadPatch
		bad    []string // locations of errors
	}{
		{
			name:   "reserved traits",
			traits: `{"email":" taro@example.co.jp ","name":"Taro Yamada","title":"部長","industry":"manufacturing","employees":250,"phone":312345678,"consent":true,"unsubscribed":false}`,
			want: leadflow.LeadPatch{Email: ptr("taro@example.co.jp"), Name: ptr("Taro Yamada"), Title: ptr("部長"), Industry: ptr("manufacturing"),
				Employees: ptr(250), Phone: ptr("312345678"), Consent: ptr(true), Unsubscribed: ptr(false)},
		},
		{
			name:   "japanese first and last names",
			traits: `{"firstName":"太郎","lastName":"山田"}`,
			want:   leadflow.LeadPatch{Name: ptr("山田 太郎"), Traits: map[string]any{"firstName": "太郎", "lastName": "山田"}},
		},
		{
			name:   "katakana names",
			traits: `{"first_name":"タロウ","last_name":"ヤマダ"}`,
			want:   leadflow.LeadPatch{Name: ptr("ヤマダ タロウ"), Traits: map[string]any{"first_name": "タロウ", "last_name": "ヤマダ"}},
		},
		{
			name:   "western first and last names",
			traits: `{"firstName":"Jane","lastName":"Doe"}`,
			want:   leadflow.LeadPatch{Name: ptr("Jane Doe"), Traits: map[string]any{"firstName": "Jane", "lastName": "Doe"}},
		},
		{
			name:   "name wins over first and last",
			traits: `{"name":"山田太郎","firstName":"太郎","lastName":"山田"}`,
			want:   leadflow.LeadPatch{Name: ptr("山田太郎"), Traits: map[string]any{"firstName": "太郎", "lastName": "山田"}},
		},
		{
			name:   "company as a string",
			traits: `{"company":"株式会社サンプル"}`,
			want:   leadflow.LeadPatch{Company: ptr("株式会社サンプル")},
		},
		{
			name:   "company object",
			traits: `{"company":{"name":"Acme","employee_count":"1,200","industry":"it","plan":"enterprise"}}`,
			want:   leadflow.LeadPatch{Company: ptr("Acme"), Employees: ptr(1200), Industry: ptr("it"), Traits: map[string]any{"company": map[string]any{"plan": "enterprise"}}},
		},
		{
			name:   "top-level traits win over company and address, which are consumed",
			traits: `{"industry":"finance","employees":50,"country":"JP","company":{"industry":"it","employee_count":9},"address":{"country":"US","state":"CA","city":"SF"}}`,
			want: leadflow.LeadPatch{Industry: ptr("finance"), Employees: ptr(50), Country: ptr("JP"), Region: ptr("CA"),
				Traits: map[string]any{"address": map[string]any{"city": "SF"}}},
		},
		{
			name:   "address",
			traits: `{"address":{"country":"Japan","region":"Kanto","state":"Tokyo"}}`,
			want:   leadflow.LeadPatch{Country: ptr("Japan"), Region: ptr("Kanto"), Traits: map[string]any{"address": map[string]any{"state": "Tokyo"}}},
		},
		{
			name:   "custom traits",
			traits: `{"plan":"pro","logins":3,"id":"u1"}`,
			want:   leadflow.LeadPatch{Traits: map[string]any{"plan": "pro", "logins": float64(3), "id": "u1"}},
		},
		{
			name:   "wrong types are reported and kept",
			traits: `{"email":{"x":1},"employees":"100-500","company":[1],"title":"CTO"}`,
			want: leadflow.LeadPatch{Title: ptr("CTO"),
				Traits: map[string]any{"email": map[string]any{"x": float64(1)}, "employees": "100-500", "company": []any{float64(1)}}},
			bad: []string{"/traits/company", "/traits/email", "/traits/employees"},
		},
		{name: "null is ignored", traits: `{"email":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := segment.TraitsPatch(traitsOf(t, tt.traits))
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tt.want)
				t.Errorf("patch\n got %s\nwant %s", gj, wj)
			}
			var e *leadflow.Error
			if len(tt.bad) == 0 {
				if err != nil {
					t.Errorf("err %v", err)
				}
				return
			}
			if !errors.As(err, &e) || e.Code != leadflow.EINVALID {
				t.Fatalf("err %v", err)
			}
			locs := map[string]bool{}
			for _, d := range e.Details {
				locs[d.Where] = true
			}
			for _, w := range tt.bad {
				if !locs[w] {
					t.Errorf("no detail at %s in %+v", w, e.Details)
				}
			}
		})
	}
}

func TestGroupPatch(t *testing.T) {
	t.Parallel()
	got := segment.GroupPatch(traitsOf(t, `{"name":"Acme","industry":"it","employees":"300","plan":"enterprise","email":"info@acme.jp"}`))
	want := leadflow.LeadPatch{Company: ptr("Acme"), Industry: ptr("it"), Employees: ptr(300),
		Traits: map[string]any{"group": map[string]any{"plan": "enterprise", "email": "info@acme.jp"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if p := segment.GroupPatch(traitsOf(t, `{"employee_count":12}`)); p.Employees == nil || *p.Employees != 12 || p.Traits != nil {
		t.Errorf("employee_count: %+v", p)
	}
	if p := segment.GroupPatch(nil); !reflect.DeepEqual(p, leadflow.LeadPatch{}) {
		t.Errorf("nil traits: %+v", p)
	}
}

func TestAttributionOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ctx, props string
		want             leadflow.Attribution
	}{
		{
			name: "context.campaign",
			ctx:  `{"campaign":{"source":"google","medium":"cpc","name":"spring","term":"crm","content":"ad1"},"page":{"url":"https://x.jp/?utm_source=other"}}`,
			want: leadflow.Attribution{Source: "google", Medium: "cpc", Campaign: "spring", Term: "crm", Content: "ad1"},
		},
		{
			name: "context.page.url",
			ctx:  `{"page":{"url":"https://x.jp/lp?utm_source=newsletter&utm_medium=email&utm_campaign=%E6%98%A5#top"}}`,
			want: leadflow.Attribution{Source: "newsletter", Medium: "email", Campaign: "春"},
		},
		{
			name: "context.page.search",
			ctx:  `{"campaign":{},"page":{"url":"https://x.jp/lp","search":"?utm_source=fb"}}`,
			want: leadflow.Attribution{Source: "fb"},
		},
		{
			name:  "properties.url",
			props: `{"url":"https://x.jp/?utm_medium=social&utm_term=t&utm_content=c"}`,
			want:  leadflow.Attribution{Medium: "social", Term: "t", Content: "c"},
		},
		{name: "none", ctx: `{"page":{"url":"https://x.jp/"}}`, props: `{"url":5}`},
	}
	for _, tt := range tests {
		m := segment.Message{}
		if tt.ctx != "" {
			m.Context = traitsOf(t, tt.ctx)
		}
		if tt.props != "" {
			m.Properties = traitsOf(t, tt.props)
		}
		if got := segment.AttributionOf(m); got != tt.want {
			t.Errorf("%s: got %+v", tt.name, got)
		}
	}
}
