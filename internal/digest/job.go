package digest

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// Mailer sends one composed email (notify.Notifier does, over the SMTP
// server of the notification settings).
type Mailer interface {
	SendMail(ctx context.Context, toName, toAddr, subject, text, html string) error
}

// Service sends the digests that are due.
type Service struct {
	DB     *store.DB
	Mailer Mailer
	// BaseURL is the UI's public URL for the link to the review page.
	BaseURL string
	Logger  *slog.Logger
	// Hour is the local hour on Monday from which a digest is due
	// (DefaultHour when zero).
	Hour int
	// Location is the company's time zone; nil means the SLA calendar's.
	Location *time.Location
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	sla sla.Cache
}

// Args is the periodic River job that sends the due digests.
type Args struct{}

// Kind names the job.
func (Args) Kind() string { return "review_digest" }

// Interval is how often the job looks for due digests.
const Interval = 15 * time.Minute

// Register adds the worker.
func (s *Service) Register(w *river.Workers) { river.AddWorker(w, &worker{s: s}) }

// Periodic is the job that runs every Interval (and at start).
func (s *Service) Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(Interval),
		func() (river.JobArgs, *river.InsertOpts) { return Args{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

type worker struct {
	river.WorkerDefaults[Args]
	s *Service
}

func (w *worker) Work(ctx context.Context, _ *river.Job[Args]) error {
	_, err := w.s.Run(ctx)
	return err
}

func (s *Service) location(ctx context.Context) (*time.Location, error) {
	if s.Location != nil {
		return s.Location, nil
	}
	var loc *time.Location
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.sla.Load(ctx, tx)
		if err == nil {
			loc = p.Calendar.Location()
		}
		return err
	})
	return loc, err
}

// Run sends the digest of the due week (DueWeek) to every subscriber who
// has not had it yet and returns how many it sent. Each send is first
// recorded (committed), so no week's digest goes twice to a user even if
// two runs overlap; a failed send is forgotten again so that the next run
// retries it, and Run goes on with the other subscribers and returns the
// first error.
func (s *Service) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	subs, err := s.DB.ReviewSubscribers(ctx)
	if err != nil || len(subs) == 0 {
		return 0, err
	}
	loc, err := s.location(ctx)
	if err != nil {
		return 0, err
	}
	hour := s.Hour
	if hour == 0 {
		hour = DefaultHour
	}
	w := DueWeek(now, loc, hour)
	var rv *analytics.Review
	rendered := map[string]Message{}
	sent := 0
	var first error
	for _, sub := range subs {
		var claimed bool
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			var err error
			claimed, err = tx.ClaimReviewDigest(ctx, w.Label, sub.UserID)
			return err
		})
		if err != nil {
			return sent, err
		}
		if !claimed {
			continue
		}
		if rv == nil {
			p := analytics.Period{From: w.From, To: w.To, Loc: loc, Interval: analytics.Week}
			if rv, err = analytics.ReviewReport(ctx, s.DB, p, now, nil); err != nil {
				s.release(ctx, w.Label, sub.UserID)
				return sent, err
			}
		}
		m, ok := rendered[sub.Lang]
		if !ok {
			if m, err = Render(rv, w, sub.Lang, s.link(w, loc)); err != nil {
				s.release(ctx, w.Label, sub.UserID)
				return sent, err
			}
			rendered[sub.Lang] = m
		}
		name := sub.DisplayName
		if name == "" {
			name = sub.Name
		}
		if err := s.Mailer.SendMail(ctx, name, sub.Email, m.Subject, m.Text, m.HTML); err != nil {
			log.Warn("review digest not sent; will retry", "user", sub.Name, "week", w.Label, "err", err)
			s.release(ctx, w.Label, sub.UserID)
			if first == nil {
				first = err
			}
			continue
		}
		log.Info("review digest sent", "user", sub.Name, "week", w.Label)
		sent++
	}
	return sent, first
}

func (s *Service) release(ctx context.Context, week string, userID int64) {
	_ = s.DB.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.ReleaseReviewDigest(ctx, week, userID) })
}

// link is the review page of week w.
func (s *Service) link(w Week, loc *time.Location) string {
	q := url.Values{"from": {w.From.Format("2006-01-02")}, "to": {w.To.AddDate(0, 0, -1).Format("2006-01-02")},
		"tz": {loc.String()}, "interval": {"week"}}
	return strings.TrimSuffix(s.BaseURL, "/") + "/review?" + q.Encode()
}
