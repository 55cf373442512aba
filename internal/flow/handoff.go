package flow

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// Handoff is everything a salesperson needs to act on a lead at once: the
// stage and why, the score and its explanation, what the lead read, its
// recent history, where it came from, BANT, owner and SLA, previous owners
// and rejections. It travels with every notification.
type Handoff struct {
	Lead  *leadflow.Lead `json:"lead"`
	Stage leadflow.Stage `json:"stage"`
	// LifecycleStage is the stage in HubSpot's words (see HubSpotStage).
	LifecycleStage string                `json:"lifecyclestage"`
	StageSince     time.Time             `json:"stage_since"`
	Why            *Why                  `json:"why,omitempty"`
	Score          *Explanation          `json:"score"`
	TopContent     []Content             `json:"top_content"`
	Timeline       []TimelineItem        `json:"recent_timeline"`
	Source         Touchpoints           `json:"source"`
	BANT           leadflow.BANT         `json:"bant"`
	Owner          string                `json:"owner,omitempty"`
	Team           string                `json:"team,omitempty"`
	SLA            []SLADeadline         `json:"sla"`
	Owners         []PreviousOwner       `json:"previous_owners"`
	Rejections     []Rejection           `json:"rejections"`
	Touches        []store.Touch         `json:"touches"`
	Deals          []store.Deal          `json:"deals"`
	Stages         []leadflow.Transition `json:"stage_history"`
}

// Why says which rule (or person) put the lead in its stage.
type Why struct {
	Cause  string    `json:"cause"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Rule   string    `json:"rule,omitempty"` // the stage rule's condition, when a rule fired
}

// Content is a page or document the lead looked at, by frequency.
type Content struct {
	Title string    `json:"title"`
	Path  string    `json:"path,omitempty"`
	Views int       `json:"views"`
	Last  time.Time `json:"last"`
}

// TimelineItem is one recent event, in short.
type TimelineItem struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	Name string    `json:"name"`
	Path string    `json:"path,omitempty"`
}

// Touchpoints are the lead's first and last touch.
type Touchpoints struct {
	First leadflow.Attribution `json:"first_touch"`
	Last  leadflow.Attribution `json:"last_touch"`
}

// SLADeadline is a running SLA clock.
type SLADeadline struct {
	Policy string    `json:"policy"`
	Stage  string    `json:"stage"`
	Status string    `json:"status"`
	DueAt  time.Time `json:"due_at"`
}

// PreviousOwner is one earlier assignment.
type PreviousOwner struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
	Rule  string    `json:"rule,omitempty"`
}

// Rejection is a time sales sent the lead back, with the reason.
type Rejection struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
}

// handoffSources are the optional parts other packages contribute (SLA
// clocks, assignment history); nil functions contribute nothing.
type handoffSources struct {
	sla    func(ctx context.Context, leadID int64) ([]SLADeadline, error)
	owners func(ctx context.Context, leadID int64) ([]PreviousOwner, error)
}

// Handoff builds the handoff context of a lead as of now.
func (f *Flow) Handoff(ctx context.Context, leadID int64) (*Handoff, error) {
	l, err := f.db.FindLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	h := &Handoff{Lead: l, Stage: l.Stage, LifecycleStage: HubSpotStage(l.Stage), StageSince: l.StageAt, BANT: l.BANT, Owner: l.Owner, Team: l.Team,
		Source: Touchpoints{First: l.FirstTouch, Last: l.LastTouch},
		SLA:    []SLADeadline{}, Owners: []PreviousOwner{}, Rejections: []Rejection{}}
	if h.Score, _, err = f.Explain(ctx, leadID); err != nil {
		return nil, err
	}
	if h.Stages, err = f.db.TransitionsOfLead(ctx, leadID); err != nil {
		return nil, err
	}
	if h.Stages == nil {
		h.Stages = []leadflow.Transition{}
	}
	for i := len(h.Stages) - 1; i >= 0; i-- {
		t := h.Stages[i]
		if t.To == leadflow.StageRecycled && t.Reason != "" {
			h.Rejections = append(h.Rejections, Rejection{At: t.At, By: t.Cause, Reason: t.Reason})
		}
		if h.Why == nil && t.To == l.Stage {
			h.Why = &Why{Cause: t.Cause, Reason: t.Reason, At: t.At}
			if strings.HasPrefix(t.Cause, "rule ") {
				act, _, err := f.ActiveModel(ctx)
				if err == nil {
					h.Why.Rule = act.Model.StageRule(l.Stage)
				}
			}
		}
	}
	events, _, err := f.db.Timeline(ctx, leadID, "", 500)
	if err != nil {
		return nil, err
	}
	h.TopContent, h.Timeline = content(events), []TimelineItem{}
	for i, e := range events {
		if i == 10 {
			break
		}
		h.Timeline = append(h.Timeline, TimelineItem{At: e.Timestamp, Type: string(e.Type), Name: e.Name, Path: pathOf(&e)})
	}
	if h.Touches, err = f.db.TouchesOfLead(ctx, leadID); err != nil {
		return nil, err
	}
	if len(h.Touches) > 5 {
		h.Touches = h.Touches[:5]
	}
	if h.Deals, err = f.db.DealsOfLead(ctx, leadID); err != nil {
		return nil, err
	}
	if f.handoff.sla != nil {
		if h.SLA, err = f.handoff.sla(ctx, leadID); err != nil {
			return nil, err
		}
	}
	if f.handoff.owners != nil {
		if h.Owners, err = f.handoff.owners(ctx, leadID); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Map is the handoff as a JSON object, for notification payloads.
func (h *Handoff) Map() (map[string]any, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, leadflow.Internal(err, "handoff")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, leadflow.Internal(err, "handoff")
	}
	return m, nil
}

func pathOf(e *leadflow.Event) string {
	if p, ok := e.Properties["path"].(string); ok {
		return p
	}
	return ""
}

// content ranks the pages and documents of the events by views.
func content(events []leadflow.Event) []Content {
	byKey := map[string]*Content{}
	for i := range events {
		e := &events[i]
		var c Content
		switch {
		case e.Type == leadflow.EventPage:
			c = Content{Title: e.Name, Path: pathOf(e)}
			if c.Title == "" {
				c.Title = c.Path
			}
		case e.Type == leadflow.EventTrack && e.Name == "Document Downloaded":
			title, _ := e.Properties["title"].(string)
			if title == "" {
				title = e.Name
			}
			c = Content{Title: title}
		default:
			continue
		}
		key := c.Title + "\x00" + c.Path
		if cur, ok := byKey[key]; ok {
			cur.Views++
			if e.Timestamp.After(cur.Last) {
				cur.Last = e.Timestamp
			}
			continue
		}
		c.Views, c.Last = 1, e.Timestamp
		byKey[key] = &c
	}
	out := make([]Content, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Views != out[j].Views {
			return out[i].Views > out[j].Views
		}
		return out[i].Last.After(out[j].Last)
	})
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

// previousOwners lists the owners a lead had before its current one, most
// recent first, from its assignment history.
func (f *Flow) previousOwners(ctx context.Context, leadID int64) ([]PreviousOwner, error) {
	as, err := f.db.AssignmentsOfLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	out := []PreviousOwner{}
	for i := len(as) - 1; i >= 0; i-- {
		if a := as[i]; a.PreviousOwner != "" {
			out = append(out, PreviousOwner{Owner: a.PreviousOwner, Until: a.At, Rule: a.Rule})
		}
	}
	return out, nil
}
