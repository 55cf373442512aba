package nurture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

// Event names that tracking records for the lead; the scoring model
// matches them like any other event.
const (
	EventEmailOpened  = "Email Opened"
	EventEmailClicked = "Email Link Clicked"
	EventUnsubscribed = "Unsubscribed"
)

// Retry policy of a step: the notifications' backoff (×3 from 5 s, capped
// at 6 h), 14 attempts.
const maxAttempts = notify.MaxAttempts

// Tracked is a tracking event for the flow to record and score.
type Tracked struct {
	Send *store.Send
	// Name is EventEmailOpened, EventEmailClicked or EventUnsubscribed.
	Name string
	// MessageID makes a repeated open or click of the same send and link
	// count once.
	MessageID  string
	Properties map[string]any
}

// Recorder records tracking events in the flow: one transaction that
// stores the event, scores the lead, applies stage rules and, for an
// unsubscribe, records the consent and suppression and ends every
// enrolment. *flow.Flow implements it (flow/nurture.go).
type Recorder interface {
	NurtureEvent(ctx context.Context, t Tracked) error
	// NurtureBounce records a bounce (validated by CheckBounces): the
	// bounce row, the send marked, the address suppressed when it must be
	// (its enrolments ended with ExitBounced) and an EventEmailBounced
	// event scored for the lead, in one transaction.
	NurtureBounce(ctx context.Context, b BounceReport) (*BounceResult, error)
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// BaseURL is where tracking links point unless the nurture or the
	// notification settings give a base_url.
	BaseURL string
	Now     func() time.Time
}

// Service runs sequence steps and serves tracking.
type Service struct {
	db    *store.DB
	queue interface {
		Insert(ctx context.Context, tx *store.Tx, args river.JobArgs) error
	}
	rec  Recorder
	log  *slog.Logger
	base string
	now  func() time.Time

	// Sequences is the compiled sequence cache; the flow shares it.
	Sequences *Cache
	limit     limiter
}

// New returns a service; queue and recorder are set after the queue and
// the flow exist (the workers are registered before).
func New(db *store.DB, cache *Cache, opts Options) *Service {
	s := &Service{db: db, log: opts.Logger, base: strings.TrimRight(opts.BaseURL, "/"), now: opts.Now, Sequences: cache}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.Sequences == nil {
		s.Sequences = &Cache{}
	}
	return s
}

// SetQueue gives the service the queue it inserts steps into.
func (s *Service) SetQueue(q interface {
	Insert(ctx context.Context, tx *store.Tx, args river.JobArgs) error
}) {
	s.queue = q
}

// SetRecorder gives the service the flow.
func (s *Service) SetRecorder(r Recorder) { s.rec = r }

func (s *Service) enqueue(ctx context.Context, tx *store.Tx, args river.JobArgs) error {
	return s.queue.Insert(ctx, tx, args)
}

// Register adds the step and enrol workers (for jobs.Handlers.Register).
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &stepWorker{s: s})
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[EnrolArgs]) error {
		return s.enrolLater(ctx, j.Args)
	}))
}

type stepWorker struct {
	river.WorkerDefaults[StepArgs]
	s *Service
}

func (w *stepWorker) NextRetry(j *river.Job[StepArgs]) time.Time {
	return time.Now().Add(notify.Backoff(j.Attempt))
}

func (w *stepWorker) Timeout(*river.Job[StepArgs]) time.Duration { return time.Minute }

func (w *stepWorker) Work(ctx context.Context, j *river.Job[StepArgs]) error {
	return w.s.RunStep(ctx, j.Args)
}

func (s *Service) signer(ctx context.Context) (Signer, error) {
	key, err := s.db.NurtureKey(ctx, func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	})
	return NewSigner(key), err
}

// Settings returns the nurture settings in force.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	st, err := s.db.Setting(ctx, store.SettingNurture)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		d := DefaultSettings
		return &d, nil
	} else if err != nil {
		return nil, err
	}
	return ParseSettings([]byte(st.Value))
}

func (s *Service) smtp(ctx context.Context) (*notify.Settings, error) {
	st, err := s.db.Setting(ctx, store.SettingNotifications)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return &notify.Settings{}, nil
	} else if err != nil {
		return nil, err
	}
	return notify.ParseSettings([]byte(st.Value))
}

// baseURL is where tracking links point.
func (s *Service) baseURL(ns *Settings, n *notify.Settings) string {
	switch {
	case ns.BaseURL != "":
		return ns.BaseURL
	case n.BaseURL != "":
		return strings.TrimRight(n.BaseURL, "/")
	}
	return s.base
}

// enrolLater is the delayed enrolment: the lead must still be in the
// stage it entered then.
func (s *Service) enrolLater(ctx context.Context, a EnrolArgs) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.FindLead(ctx, a.LeadID)
		if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if l.Stage != a.Stage || !l.StageAt.Equal(a.StageAt) {
			return nil // moved on (e.g. the MQL was accepted): no nurture
		}
		byID, _, err := s.Sequences.Load(ctx, tx)
		if err != nil {
			return err
		}
		seq := byID[a.SequenceID]
		if seq == nil || !seq.Active {
			return nil
		}
		_, _, err = s.Sequences.Enrol(ctx, tx, s.enqueue, seq, l, fmt.Sprintf("stage %s for %s", a.Stage, seq.Enrol.After.Text))
		return err
	})
}

// pendingEmail is an email step claimed in the first transaction of a
// step run and sent after it.
type pendingEmail struct {
	send *store.Send
	seq  *Sequence
	step int
	lead *leadflow.Lead
	e    *store.Enrolment
}

// RunStep runs one step of an enrolment. Waits, tasks and branches happen
// in one transaction with the move to the next step. An email is claimed
// (a send row unique per enrolment and step, so a step is never sent
// twice), sent outside the transaction, and then marked sent with the
// move; if SMTP fails the step stays pending and the job is retried with
// backoff.
func (s *Service) RunStep(ctx context.Context, a StepArgs) error {
	var pend *pendingEmail
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		pend = nil
		e, err := tx.Enrolment(ctx, a.EnrolmentID)
		if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if e.Status != store.EnrolmentActive || e.Step != a.Step {
			return nil // paused, ended or moved on: a stale job
		}
		if !a.At.IsZero() && a.At.Before(e.NextRunAt.Add(-time.Millisecond)) {
			return nil // paused and resumed since: the resume queued the step again, later
		}
		byID, _, err := s.Sequences.Load(ctx, tx)
		if err != nil {
			return err
		}
		seq := byID[e.SequenceID]
		if seq == nil {
			_, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, ExitGone, time.Time{})
			return err
		}
		l, err := tx.FindLead(ctx, e.LeadID)
		if err != nil {
			return err
		}
		// Exit rules are checked again before every step, so a lead that
		// reached SQL or unsubscribed gets nothing more even if a hook
		// was missed.
		if l.Unsubscribed {
			_, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, ExitUnsubscribed, time.Time{})
			return err
		}
		if reason, ok := seq.ExitsOn(l.Stage); ok {
			_, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, reason, time.Time{})
			return err
		}
		if a.Step >= len(seq.Steps) {
			_, err := advance(ctx, tx, s.enqueue, e, seq, a.Step, tx.Now)
			return err
		}
		st := seq.Steps[a.Step]
		switch st.Kind {
		case StepWait:
			pols, err := s.Sequences.policies(ctx, tx)
			if err != nil {
				return err
			}
			_, err = advance(ctx, tx, s.enqueue, e, seq, a.Step+1, st.Wait.Until(tx.Now, pols.Calendar))
			return err
		case StepTask:
			pols, err := s.Sequences.policies(ctx, tx)
			if err != nil {
				return err
			}
			owner := st.Owner
			if owner == "" {
				owner = l.Owner
			}
			t := &store.Task{EnrolmentID: e.ID, Step: a.Step, SequenceID: seq.ID, LeadID: l.ID, Kind: st.TaskKind,
				Title: st.Title, Owner: owner, DueAt: st.Wait.Until(tx.Now, pols.Calendar)}
			if err := tx.CreateTask(ctx, t); err != nil {
				return err
			}
			_, err = advance(ctx, tx, s.enqueue, e, seq, a.Step+1, tx.Now)
			return err
		case StepBranch:
			f := Facts{Lead: l, Now: tx.Now}
			if last, err := tx.LastSend(ctx, e.ID); err == nil {
				f.Sent, f.Opened, f.Clicked = true, last.OpenedAt != nil, last.ClickedAt != nil
			} else if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				return err
			}
			next := st.Else
			if st.If.Holds(f) {
				next = st.Then
			}
			_, err := advance(ctx, tx, s.enqueue, e, seq, next, tx.Now)
			return err
		case StepEmail:
			if l.Email == "" {
				_, err := advance(ctx, tx, s.enqueue, e, seq, a.Step+1, tx.Now)
				return err
			}
			supp, err := tx.Suppression(ctx, l.Email)
			if err != nil {
				return err
			}
			if supp != "" {
				_, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, ExitSuppressed, time.Time{})
				return err
			}
			send, err := tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: a.Step, SequenceID: seq.ID, LeadID: l.ID, Email: l.Email})
			if err != nil {
				return err
			}
			if send.Status != store.SendPending {
				_, err := advance(ctx, tx, s.enqueue, e, seq, a.Step+1, tx.Now)
				return err
			}
			pend = &pendingEmail{send: send, seq: seq, step: a.Step, lead: l, e: e}
			return nil
		}
		return leadflow.Errorf(leadflow.EINTERNAL, "unknown step kind %q", st.Kind)
	})
	if err != nil || pend == nil {
		return err
	}
	return s.sendStep(ctx, pend)
}

func (s *Service) sendStep(ctx context.Context, p *pendingEmail) error {
	ns, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	n, err := s.smtp(ctx)
	if err != nil {
		return err
	}
	if n.SMTP == nil {
		return leadflow.Errorf(leadflow.ECONFLICT, "SMTP is not configured (notifications settings): step %s of %s waits",
			stepName(p.seq, p.step), p.seq.Name)
	}
	from := p.seq.From
	if from == "" {
		from = n.SMTP.From
	}
	fromAddr, err := netmail.ParseAddress(from)
	if err != nil {
		return leadflow.Invalidf("from", "%v", err)
	}
	if wait := s.limit.take(s.now(), map[string]int{"": ns.Rate.PerMinute, "from:" + strings.ToLower(fromAddr.Address): ns.Rate.PerSenderPerMinute}); wait > 0 {
		return river.JobSnooze(wait)
	}
	o, err := s.compose(ctx, p, fromAddr, s.baseURL(ns, n))
	if err != nil {
		return err
	}
	if err := sendMail(ctx, n.SMTP, o); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.Reason == mail.ErrSMTPRcptTo {
			// A hard bounce: the server refuses the address for good.
			return s.bounced(ctx, p, err)
		}
		if aerr := s.db.SendAttempt(ctx, p.send.ID, o.MessageID, err.Error()); aerr != nil {
			s.log.Error("nurture: record send attempt", "send", p.send.ID, "err", aerr)
		}
		s.log.Warn("nurture: send failed; will retry", "send", p.send.ID, "lead", p.lead.ID, "err", err)
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.FinishSend(ctx, p.send.ID, store.SendSent, o.MessageID); err != nil {
			return err
		}
		e, err := tx.Enrolment(ctx, p.e.ID)
		if err != nil {
			return err
		}
		if e.Status != store.EnrolmentActive || e.Step != p.step {
			return nil
		}
		_, err = advance(ctx, tx, s.enqueue, e, p.seq, p.step+1, tx.Now)
		return err
	})
}

// bounced records a hard bounce at SMTP time like a reported one (the
// flow suppresses the address, marks the send bounced and skipped, ends
// the lead's enrolments and scores an "Email Bounced" event).
func (s *Service) bounced(ctx context.Context, p *pendingEmail, cause error) error {
	s.log.Warn("nurture: hard bounce; address suppressed", "lead", p.lead.ID, "err", cause)
	if s.rec != nil {
		_, err := s.rec.NurtureBounce(ctx, BounceReport{Email: p.lead.Email, Type: store.BounceHard, Reason: cause.Error(),
			At: s.now().UTC(), SendID: p.send.ID})
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Suppress(ctx, p.lead.Email, "bounced", p.lead.ID); err != nil {
			return err
		}
		if err := tx.MarkSendBounced(ctx, p.send.ID, store.BounceHard, tx.Now); err != nil {
			return err
		}
		if _, err := tx.FinishSend(ctx, p.send.ID, store.SendSkipped, ""); err != nil {
			return err
		}
		return ExitAll(ctx, tx, p.lead.ID, ExitBounced)
	})
}

// compose renders the step's email for the lead with tracked links, the
// open pixel and the unsubscribe link and headers.
func (s *Service) compose(ctx context.Context, p *pendingEmail, from *netmail.Address, base string) (*outgoing, error) {
	sg, err := s.signer(ctx)
	if err != nil {
		return nil, err
	}
	tmpl := p.seq.Templates[p.seq.Steps[p.step].Template]
	unsub := base + "/u/" + sg.Sign(Claims{Kind: TokenUnsubscribe, Send: p.send.ID})
	subject, text, body, err := tmpl.Render(TemplateData{Lead: NewLeadFields(p.lead), Sequence: p.seq.Name, UnsubscribeURL: unsub})
	if err != nil {
		return nil, leadflow.Internal(err, "render "+tmpl.ID)
	}
	text, body = trackLinks(text, body, base, func(u string) string {
		return base + "/t/c/" + sg.Sign(Claims{Kind: TokenClick, Send: p.send.ID, URL: u})
	})
	text, body = withFooter(text, body, unsub, base+"/t/o/"+sg.Sign(Claims{Kind: TokenOpen, Send: p.send.ID})+".gif")
	domain := "leadflow.local"
	if _, d, ok := strings.Cut(from.Address, "@"); ok {
		domain = d
	}
	return &outgoing{From: from, To: &netmail.Address{Name: p.lead.Name, Address: p.lead.Email}, Subject: subject,
		Text: text, HTML: body, Unsubscribe: unsub, Date: s.now(), ExtraHeaderSeq: p.seq.Name,
		// Stable per send: a resend after a crash carries the same id.
		MessageID: fmt.Sprintf("nurture.%d.%d@%s", p.send.ID, p.send.EnrolmentID, domain)}, nil
}

// TestSend renders a template of a sequence for a lead (or a sample lead
// when leadID is 0) and sends it to an address now, with "[テスト/test]" in
// the subject and links left untracked.
func (s *Service) TestSend(ctx context.Context, seqID int64, template string, leadID int64, to string) error {
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return leadflow.Invalidf("to", "%q is not an email address", to)
	}
	row, err := s.db.Sequence(ctx, seqID)
	if err != nil {
		return err
	}
	seq, err := Parse(row.Name+".yaml", []byte(row.Source))
	if err != nil {
		return err
	}
	t, ok := seq.Templates[template]
	if !ok {
		return leadflow.Invalidf("template", "sequence %s has no template %q", seq.Name, template)
	}
	data := sampleData
	if leadID != 0 {
		l, err := s.db.FindLead(ctx, leadID)
		if err != nil {
			return err
		}
		data.Lead = NewLeadFields(l)
	}
	data.Sequence = seq.Name
	n, err := s.smtp(ctx)
	if err != nil {
		return err
	}
	if n.SMTP == nil {
		return leadflow.Errorf(leadflow.ECONFLICT, "SMTP is not configured: PUT /api/v1/settings/notifications with an smtp section first")
	}
	from := seq.From
	if from == "" {
		from = n.SMTP.From
	}
	fromAddr, err := netmail.ParseAddress(from)
	if err != nil {
		return leadflow.Invalidf("from", "%v", err)
	}
	subject, text, body, err := t.Render(data)
	if err != nil {
		return leadflow.Invalidf("template", "%v", err)
	}
	return sendMail(ctx, n.SMTP, &outgoing{From: fromAddr, To: addr, Subject: "[テスト/test] " + subject, Text: text, HTML: body,
		Date: s.now(), MessageID: fmt.Sprintf("nurture.test.%d@leadflow.local", s.now().UnixNano())})
}
