package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestLeadSearch: the text search of the lead list finds the same leads
// through the trigram index as by the plain LIKE scan (Japanese text, any
// case, LIKE's own characters taken literally, short texts, common words),
// and an erased lead's name, email and company are no longer found.
func TestLeadSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		leads := []leadflow.Lead{
			{Email: "taro@yamada-seisakusho.co.jp", Name: "山田 太郎", Company: "山田製作所"},
			{Email: "emile@zola.fr", Name: "Emile ZOLA", Company: "Zola Books"},
			{Email: "hanako@sato.jp", Name: "佐藤 花子", Company: "株式会社サトウ 100%_ok"},
			{Email: "jiro@example.jp", Name: "鈴木 次郎", Company: "株式会社サトウ 100x"},
		}
		for i := range 30 {
			leads = append(leads, leadflow.Lead{Email: fmt.Sprintf("staff%d@filler.example.jp", i),
				Name: fmt.Sprintf("社員 %d", i), Company: "株式会社フィラー"})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := range leads {
				if err := tx.CreateLead(ctx, &leads[i]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		find := func(q string) []int64 {
			t.Helper()
			ls, _, err := db.FindLeads(ctx, store.LeadFilter{Q: q, Limit: 1000})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var ids []int64
			for _, l := range ls {
				ids = append(ids, l.ID)
			}
			slices.Sort(ids)
			return ids
		}
		id := func(i int) int64 { return leads[i].ID }
		for _, tc := range []struct {
			q    string
			want []int64
		}{
			{"製作所", []int64{id(0)}},
			{"YAMADA-seisakusho", []int64{id(0)}}, // email, any case
			{"emile zola", []int64{id(1)}},
			{"zola", []int64{id(1)}},
			{"100%_", []int64{id(2)}}, // % and _ are not wildcards
			{"サトウ 100", []int64{id(2), id(3)}},
			{"佐藤", []int64{id(2)}}, // two characters: the scan
			{"ない会社", nil},
			{`"quoted"`, nil},
		} {
			if got := find(tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("search %q: %v, want %v", tc.q, got, tc.want)
			}
		}
		// The index and the scan agree, whichever is used.
		for _, q := range []string{"製作所", "zola", "100%_", "株式会社", "filler.example", "社員 1", "サトウ"} {
			indexed := find(q)
			restore := store.SetSearchMaxCandidates(0) // every text found is matched by the scan
			scanned := find(q)
			restore()
			if !slices.Equal(indexed, scanned) {
				t.Errorf("search %q: %v by the index, %v by the scan", q, indexed, scanned)
			}
		}
		restore := store.SetSearchMaxCandidates(5) // 株式会社: too many for the index
		if got := find("株式会社"); len(got) != 32 {
			t.Errorf("common word: %d leads, want 32", len(got))
		}
		restore()

		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.EraseLead(ctx, id(0), "test") }); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"山田", "山田 太郎", "製作所", "yamada-seisakusho"} {
			if got := find(q); len(got) != 0 {
				t.Errorf("erased lead found by %q: %v", q, got)
			}
		}
		if db.Dialect != store.Postgres {
			// Nothing of the erased lead is left in the trigram index.
			for _, q := range []string{`"製作所"`, `"yamada"`, `"太郎"`} {
				var n int
				if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM leads_search WHERE leads_search MATCH ?", q).Scan(&n); err != nil || n != 0 {
					t.Errorf("index after erasure, %s: %d %v", q, n, err)
				}
			}
		}
	})
}

// TestLeadFilterValues: the lead list's filter choices are every distinct
// source, campaign and industry of the leads not erased, in order, read
// without a cache (a new source is there at once).
func TestLeadFilterValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		add := func(email, source, campaign, industry string) int64 {
			l := leadflow.Lead{Email: email, Industry: industry,
				FirstTouch: leadflow.Attribution{Source: source, Campaign: campaign}}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateLead(ctx, &l) }); err != nil {
				t.Fatal(err)
			}
			return l.ID
		}
		add("a@x.jp", "google", "seminar-2026", "manufacturing")
		add("b@x.jp", "google", "展示会", "")
		add("c@x.jp", "", "", "it")
		gone := add("d@x.jp", "only-erased", "only-erased", "only-erased")
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.EraseLead(ctx, gone, "test") }); err != nil {
			t.Fatal(err)
		}
		fv, err := db.LeadFilterValues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fv.Sources, []string{"google"}) || !slices.Equal(fv.Campaigns, []string{"seminar-2026", "展示会"}) ||
			!slices.Equal(fv.Industries, []string{"it", "manufacturing"}) {
			t.Fatalf("filter values %+v", fv)
		}
		add("e@x.jp", "facebook", "", "")
		if fv, err = db.LeadFilterValues(ctx); err != nil || !slices.Equal(fv.Sources, []string{"facebook", "google"}) {
			t.Fatalf("after a new source: %+v %v", fv, err)
		}
	})
}
