package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// hiddenModel is internal/gen's hidden rule written as a scoring model
// (truth.go): the same fit weights, caps and a 60-day half life. Replayed
// over a generated history, its max-F threshold should land near the
// hidden threshold that drew the outcomes.
const hiddenModel = `name: hidden-rule
fit:
  - id: industry-12
    when: lead.industry in ["manufacturing", "it"]
    points: 12
  - id: industry-finance
    when: lead.industry == "finance"
    points: 10
  - id: industry-healthcare
    when: lead.industry == "healthcare"
    points: 6
  - id: industry-retail
    when: lead.industry == "retail"
    points: 4
  - id: industry-government
    when: lead.industry == "government"
    points: 2
  - id: student
    when: lead.title == "学生"
    points: -25
  - id: staff
    when: lead.title in ["担当", "エンジニア", "Engineer", "研究員", "情報システム部 担当", "営業企画"]
    points: 2
  - id: team-lead
    when: lead.title in ["主任", "係長"]
    points: 5
  - id: manager
    when: lead.title in ["課長", "マネージャー", "Manager", "マーケティング部 課長"]
    points: 10
  - id: director
    when: lead.title in ["部長", "本部長", "Director", "経営企画部 部長"]
    points: 15
  - id: executive
    when: lead.title in ["執行役員", "取締役", "代表取締役", "VP of Sales", "CTO"]
    points: 18
  - id: size-1000
    when: lead.employees >= 1000
    points: 14
  - id: size-300
    when: lead.employees >= 300 && lead.employees < 1000
    points: 10
  - id: size-100
    when: lead.employees >= 100 && lead.employees < 300
    points: 7
  - id: size-30
    when: lead.employees >= 30 && lead.employees < 100
    points: 3
  - id: free-mail
    when: lead.email.endsWith("@gmail.com") || lead.email.endsWith("@yahoo.co.jp") || lead.email.endsWith("@icloud.com") || lead.email.endsWith("@outlook.jp")
    points: -10
  - id: foreign
    when: lead.country != "JP"
    points: -5
behavior:
  - id: page
    when: event.type == "page"
    points: 0.5
    max: 6
  - id: pricing
    when: event.type == "page" && event.properties.path.startsWith("/pricing")
    points: 6
    max: 24
  - id: product
    when: event.type == "page" && (event.properties.path.startsWith("/product") || event.properties.path.startsWith("/case-studies"))
    points: 2
    max: 12
  - id: download
    when: event.name == "Document Downloaded"
    points: 8
    max: 24
  - id: seminar
    when: event.name in ["Webinar Attended", "Seminar Attended"]
    points: 12
    max: 24
  - id: email-open
    when: event.name == "Email Opened"
    points: 0.5
    max: 3
  - id: email-click
    when: event.name == "Email Link Clicked"
    points: 2
    max: 8
  - id: hand-raise
    when: event.name in ["Demo Requested", "Contact Sales", "Quote Requested"]
    points: 30
    max: 30
  - id: unsubscribe
    when: event.name == "Unsubscribed"
    points: -20
decay:
  half_life: 60d
stages:
  mql: score >= 50
`

// genEnd is the end of every generated history in these tests.
var genEnd = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

// loadGen writes a generated history into db with gen.Load: leads, events,
// and their outcomes as transitions (mql, sal, sql, opportunity, customer
// or recycled, at the hidden rule's times) and deals, each lead's stage
// its last one. It returns the number of leads.
func loadGen(t testing.TB, db *store.DB, cfg gen.Config) int {
	t.Helper()
	ctx := context.Background()
	var src *store.Source
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		src, _, err = tx.CreateSource(ctx, "gen")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st, err := gen.Load(ctx, db, src.ID, cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Leads)
}

func mustModel(t testing.TB, name, src string) *scoring.Model {
	t.Helper()
	m, err := scoring.Compile(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
