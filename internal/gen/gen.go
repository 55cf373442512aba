// Package gen generates a deterministic synthetic lead history of a Japanese
// B2B company, with known truth: every lead's outcome (MQL, SQL, opportunity,
// won or lost) is drawn from a hidden scoring rule, so benchmarks get
// realistic volume and skew, the demo gets a believable company, and
// backtests can check that a threshold search finds the hidden threshold.
//
// The hidden rule: a lead's true score is its fit (industry, head count,
// title seniority, free mail, country) plus capped behaviour points (pages,
// pricing, product and case studies, downloads, seminars and webinars, email
// opens and clicks, hand-raisers, unsubscribes) that decay with a 60-day
// half-life. TrueScore is the peak of that score over the lead's events.
// Leads whose TrueScore reaches Config.HiddenThreshold reach SQL with
// probability 0.60, others with 0.05, shortly after the crossing (or the
// peak); half of SQLs become opportunities, 35% of those are won. See
// truth.go for the weights.
//
// The same Config always produces byte-for-byte the same records.
package gen

import (
	"errors"
	"time"

	"github.com/leadflow/leadflow"
)

// Config says how much history to generate.
type Config struct {
	// Leads is the number of leads, e.g. 1_000_000.
	Leads int
	// Events is the total number of events to spread over the leads, e.g.
	// 20_000_000. Zero means 20 per lead. The total is met exactly.
	Events int
	// Days is the history length; zero means 365.
	Days int
	// End is the end of the history; every timestamp falls in
	// [End-Days×24h, End]. Required: the generator never reads the clock.
	End time.Time
	// Seed selects the company; the same Config gives the same history.
	Seed int64
	// HiddenThreshold is the true score at or above which leads tend to
	// convert; zero means 60.
	HiddenThreshold float64
}

// Defaults applied by Generate to zero fields.
const (
	DefaultDays            = 365
	DefaultEventsPerLead   = 20
	DefaultHiddenThreshold = 60
)

// DemoConfig is the company `leadflow serve --demo` starts with: about 3,000
// leads and 60,000 events over the year up to end.
func DemoConfig(end time.Time) Config {
	return Config{Leads: 3000, Events: 60000, Days: DefaultDays, End: end, Seed: 20250401,
		HiddenThreshold: DefaultHiddenThreshold}
}

func (c Config) withDefaults() (Config, error) {
	if c.End.IsZero() {
		return c, leadflow.Invalidf("End", "end of history is required")
	}
	if c.Leads < 0 || c.Events < 0 || c.Days < 0 || c.HiddenThreshold < 0 {
		return c, leadflow.Invalidf("Config", "leads, events, days and threshold must not be negative")
	}
	if c.Days == 0 {
		c.Days = DefaultDays
	}
	if c.Events == 0 {
		c.Events = c.Leads * DefaultEventsPerLead
	}
	if c.HiddenThreshold == 0 {
		c.HiddenThreshold = DefaultHiddenThreshold
	}
	return c, nil
}

// Event sources (Event.SourceID) of the generated history.
const (
	SourceWeb     int64 = 1 // the web site's analytics.js: page views, downloads, hand-raisers
	SourceMA      int64 = 2 // the MA/email platform: opens, clicks, webinars, unsubscribes
	SourceOffline int64 = 3 // seminar attendance lists imported by CSV
)

// Outcome is what "really" happened to a lead under the hidden rule. A nil
// time is a stage the lead did not reach, or has not reached by End.
type Outcome struct {
	MQLAt, SQLAt, OpportunityAt, WonAt, LostAt *time.Time
	// Amount is the won deal's amount in JPY; zero unless WonAt is set.
	Amount float64
	// TrueScore is the lead's peak hidden score, which drew the outcome.
	TrueScore float64
	// BANT is what sales learned when qualifying; zero below SQL.
	BANT leadflow.BANT
}

// Record is one generated lead with its events (in time order) and outcome.
//
// Generate reuses one Record, its slices, maps and the values its Outcome
// pointers point to between calls to emit: emit must copy what it keeps.
// Strings are immutable and may be kept. Event Properties and Context maps
// are shared by many events and records: they must never be mutated.
//
// Lead.ID and Event.ID/LeadID are dense 1-based numbers. Events before the
// lead identified itself carry only its AnonymousID (listed in
// Lead.AnonymousIDs); later ones also its UserID (Lead.ExternalIDs[0]).
// Lead.Stage is StageLead and scores are zero: scoring is the consumer's job.
type Record struct {
	Lead    leadflow.Lead
	Events  []leadflow.Event
	Outcome Outcome

	times      [6]time.Time // backing store of the Outcome pointers
	seed       int64
	steps      []Step // History's result
	deal       Deal
	externalID [1]string
	anonID     [1]string
}

// Generate produces cfg.Leads records and calls emit once per lead, in lead
// order, stopping at the first error emit returns. See Record for what emit
// may keep.
func Generate(cfg Config, emit func(rec *Record) error) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if emit == nil {
		return errors.New("gen: emit is nil")
	}
	g := newGenerator(c)
	rec := &Record{seed: c.Seed}
	for i := 0; i < c.Leads; i++ {
		g.generate(i, rec)
		if err := emit(rec); err != nil {
			return err
		}
	}
	return nil
}
