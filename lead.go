package leadflow

import "time"

// Lead is a person known by email, external id or anonymous id, with company
// attributes, a score and a stage.
type Lead struct {
	ID           int64    `json:"id"`
	Email        string   `json:"email,omitempty"`
	ExternalIDs  []string `json:"external_ids,omitempty"`
	AnonymousIDs []string `json:"anonymous_ids,omitempty"`
	Name         string   `json:"name,omitempty"`
	Company      string   `json:"company,omitempty"`
	Title        string   `json:"title,omitempty"`
	Industry     string   `json:"industry,omitempty"`
	Employees    int      `json:"employees,omitempty"`
	Country      string   `json:"country,omitempty"`
	Region       string   `json:"region,omitempty"`
	Phone        string   `json:"phone,omitempty"`

	FirstTouch Attribution `json:"first_touch"`
	LastTouch  Attribution `json:"last_touch"`

	Consent      bool `json:"consent"`
	Unsubscribed bool `json:"unsubscribed"`

	// Traits holds custom attributes not covered above.
	Traits map[string]any `json:"traits,omitempty"`
	BANT   BANT           `json:"bant"`

	Stage         Stage     `json:"stage"`
	StageAt       time.Time `json:"stage_at"`
	Score         float64   `json:"score"`
	FitScore      float64   `json:"fit_score"`
	BehaviorScore float64   `json:"behavior_score"`
	// ScoredAt is when Score was computed; decay is applied as of that time.
	ScoredAt time.Time `json:"scored_at"`
	// NextDecayAt is when decay will next change the score; the decay
	// sweep rescores the lead then. Zero when it never will.
	NextDecayAt  time.Time `json:"-"`
	ModelVersion int       `json:"model_version"`
	Owner        string    `json:"owner,omitempty"`
	Team         string    `json:"team,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Attribution is where a touch came from (UTM parameters).
type Attribution struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}

// IsZero reports whether no field is set.
func (a Attribution) IsZero() bool { return a == Attribution{} }

// BANT is what sales learned: Budget, Authority, Need, Timeline.
type BANT struct {
	Budget    bool `json:"budget"`
	Authority bool `json:"authority"`
	Need      bool `json:"need"`
	// Timeline is the expected purchase date, when known.
	Timeline *time.Time `json:"timeline,omitempty"`
}

// TimelineDays is the number of days from now to the timeline, or -1 when
// no timeline is known. A past timeline counts as 0.
func (b BANT) TimelineDays(now time.Time) int {
	if b.Timeline == nil {
		return -1
	}
	d := int(b.Timeline.Sub(now).Hours() / 24)
	if d < 0 {
		d = 0
	}
	return d
}

// LeadPatch is a partial update of lead attributes: nil fields are left
// unchanged. Used by identify traits, the API and CSV import.
type LeadPatch struct {
	Email        *string        `json:"email,omitempty"`
	Name         *string        `json:"name,omitempty"`
	Company      *string        `json:"company,omitempty"`
	Title        *string        `json:"title,omitempty"`
	Industry     *string        `json:"industry,omitempty"`
	Employees    *int           `json:"employees,omitempty"`
	Country      *string        `json:"country,omitempty"`
	Region       *string        `json:"region,omitempty"`
	Phone        *string        `json:"phone,omitempty"`
	Consent      *bool          `json:"consent,omitempty"`
	Unsubscribed *bool          `json:"unsubscribed,omitempty"`
	Traits       map[string]any `json:"traits,omitempty"`
	BANT         *BANT          `json:"bant,omitempty"`
}

// Apply copies the set fields of p onto l and reports whether anything changed.
func (p LeadPatch) Apply(l *Lead) bool {
	changed := false
	setS := func(dst *string, src *string) {
		if src != nil && *dst != *src {
			*dst, changed = *src, true
		}
	}
	setS(&l.Email, p.Email)
	setS(&l.Name, p.Name)
	setS(&l.Company, p.Company)
	setS(&l.Title, p.Title)
	setS(&l.Industry, p.Industry)
	setS(&l.Country, p.Country)
	setS(&l.Region, p.Region)
	setS(&l.Phone, p.Phone)
	if p.Employees != nil && l.Employees != *p.Employees {
		l.Employees, changed = *p.Employees, true
	}
	if p.Consent != nil && l.Consent != *p.Consent {
		l.Consent, changed = *p.Consent, true
	}
	if p.Unsubscribed != nil && l.Unsubscribed != *p.Unsubscribed {
		l.Unsubscribed, changed = *p.Unsubscribed, true
	}
	if p.BANT != nil && !bantEqual(l.BANT, *p.BANT) {
		l.BANT, changed = *p.BANT, true
	}
	for k, v := range p.Traits {
		if l.Traits == nil {
			l.Traits = map[string]any{}
		}
		if old, ok := l.Traits[k]; !ok || !sameScalar(old, v) {
			l.Traits[k], changed = v, true
		}
	}
	return changed
}

func bantEqual(a, b BANT) bool {
	if a.Budget != b.Budget || a.Authority != b.Authority || a.Need != b.Need {
		return false
	}
	if (a.Timeline == nil) != (b.Timeline == nil) {
		return false
	}
	return a.Timeline == nil || a.Timeline.Equal(*b.Timeline)
}

// sameScalar compares two JSON values cheaply; composite values always
// count as changed, which only costs a redundant write.
func sameScalar(a, b any) bool {
	switch a.(type) {
	case string, float64, bool, int, int64, nil:
		return a == b
	}
	return false
}
