package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestFlowErrorsLocalized sends actions the domain refuses and checks that
// the lead page says why in the page's language (Japanese from the catalog,
// not the domain's English), with the error's status, and that nothing
// changed.
func TestFlowErrorsLocalized(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		c := b.login(t, "sales1")
		m := b.login(t, "manager1")
		base := "/leads/" + strconv.FormatInt(b.lead, 10)
		for _, tc := range []struct {
			name   string
			c      *http.Client
			action string
			form   url.Values
			status int
			ja, en string
		}{
			{"accept a lead that is no MQL", c, "accept", nil, http.StatusConflict,
				"受け入れできるのは MQL のリードだけです。このリードは現在「リード」です。",
				"Only an MQL can be accepted; this lead is Lead now."},
			{"reject a lead that is no MQL", c, "reject", url.Values{"reason": {"no-budget"}}, http.StatusConflict,
				"差し戻し・対象外にできるのは MQL〜HQL のリードだけです。このリードは現在「リード」です。",
				"Only an MQL, SAL, SQL or HQL can be rejected or disqualified; this lead is Lead now."},
			{"reject with an unknown reason", c, "reject", url.Values{"reason": {"no-such-reason"}}, http.StatusBadRequest,
				"理由を一覧から選んでください。", "Choose a reason from the list."},
			{"recycle without a note", c, "recycle", nil, http.StatusBadRequest,
				"ナーチャリングに戻す理由をメモに入力してください。", "Say in the note why the lead goes back to nurture."},
			{"a touch of an unknown kind", c, "touch", url.Values{"kind": {"fax"}}, http.StatusBadRequest,
				"接触の種類を一覧から選んでください", "Choose the kind of touch from the list"},
			{"a timeline that is no date", c, "bant", url.Values{"timeline": {"next spring"}}, http.StatusBadRequest,
				"導入予定日は YYYY-MM-DD 形式の日付で入力してください。", "Enter the timeline as a date (YYYY-MM-DD)."},
			{"reassign to nobody", m, "reassign", url.Values{"owner": {"nobody"}}, http.StatusBadRequest,
				"担当者には有効なユーザーを選んでください。", "Choose an active user as the owner."},
		} {
			for lang, want := range map[string]string{"ja": tc.ja, "en": tc.en} {
				before, err := db.FindLead(ctx, b.lead)
				if err != nil {
					t.Fatal(err)
				}
				r := b.post(t, tc.c, base+"/"+tc.action, tc.form, "Accept-Language", lang)
				if r.StatusCode != tc.status || !strings.Contains(r.Body, `class="flash error"`) || !strings.Contains(r.Body, want) {
					t.Errorf("%s [%s]: %d, want %d and %q in the flash\n%.3000s", tc.name, lang, r.StatusCode, tc.status, want, r.Body)
				}
				if lang == "ja" && strings.Contains(r.Body, "only an") {
					t.Errorf("%s [ja]: the domain's English message is on the page", tc.name)
				}
				after, err := db.FindLead(ctx, b.lead)
				if err != nil {
					t.Fatal(err)
				}
				if after.Stage != before.Stage || after.Owner != before.Owner || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("%s [%s]: the lead changed: %s/%s → %s/%s", tc.name, lang, before.Stage, before.Owner, after.Stage, after.Owner)
				}
			}
		}

		// A list filter the store refuses, and a lead that does not exist.
		a := b.login(t, "admin1")
		for _, tc := range []struct {
			path, ja, en string
			status       int
		}{
			{"/leads?smin=abc", "入力内容に誤りがあります (項目: smin)。", `smin: &#34;abc&#34; is not a number`, http.StatusBadRequest},
			{"/leads?sort=name", "入力内容に誤りがあります (項目: sort)。", "unknown sort", http.StatusBadRequest},
			{"/leads/999999", "お探しのものは見つかりませんでした。", "lead 999999", http.StatusNotFound},
		} {
			for lang, want := range map[string]string{"ja": tc.ja, "en": tc.en} {
				r := b.get(t, a, tc.path, "Accept-Language", lang)
				if r.StatusCode != tc.status || !strings.Contains(r.Body, want) {
					t.Errorf("%s [%s]: %d, want %d and %q\n%.3000s", tc.path, lang, r.StatusCode, tc.status, want, r.Body)
				}
			}
		}
	})
}

// TestFlowErrorFallback checks the messages of errors no table row names:
// English pages keep the domain's message, Japanese ones say what kind of
// problem it is and where.
func TestFlowErrorFallback(t *testing.T) {
	cs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	ja := &locale{Lang: "ja", msgs: cs.msgs["ja"]}
	en := &locale{Lang: "en", msgs: cs.msgs["en"]}
	for _, tc := range []struct {
		err    error
		stage  leadflow.Stage
		ja, en string
	}{
		{leadflow.Invalidf("email", "bad email %q", "x"), "", "入力内容に誤りがあります (項目: email)。", `email: bad email "x"`},
		{leadflow.Errorf(leadflow.EINVALID, "nope"), "", "入力内容に誤りがあります。", "nope"},
		{leadflow.Errorf(leadflow.ECONFLICT, "already sql"), leadflow.StageSQL, "このリードは現在「SQL」のため、この操作ではステージを変更できません。", "already sql"},
		{leadflow.Errorf(leadflow.ECONFLICT, "busy"), "", "現在の状態ではこの操作はできません。", "busy"},
		{leadflow.Errorf(leadflow.EFORBIDDEN, "not yours"), "", "このページまたは操作は、あなたのロールでは許可されていません。", "not yours"},
		{leadflow.Errorf(leadflow.ETOOLARGE, "too big"), "", "リクエストを実行できませんでした。", "too big"},
	} {
		if got := flowError(ja, "", tc.stage, tc.err); got != tc.ja {
			t.Errorf("%v [ja]: %q, want %q", tc.err, got, tc.ja)
		}
		if got := flowError(en, "", tc.stage, tc.err); got != tc.en {
			t.Errorf("%v [en]: %q, want %q", tc.err, got, tc.en)
		}
	}
}
