package routing

import "time"

// Snapshot is a State held in memory: every user, and each team's last
// round-robin pick. Tests use it, and so can a "what if" preview.
type Snapshot struct {
	At    time.Time
	Users []Candidate
	// Last is the round-robin position of each team (team name → user name).
	Last map[string]string
}

// Team implements State: the users whose Team is name.
func (s *Snapshot) Team(name string) ([]Candidate, string) {
	var out []Candidate
	for _, c := range s.Users {
		if c.Team == name {
			out = append(out, c)
		}
	}
	return out, s.Last[name]
}

// User implements State.
func (s *Snapshot) User(name string) (Candidate, bool) {
	for _, c := range s.Users {
		if c.Name == name {
			return c, true
		}
	}
	return Candidate{}, false
}

// Now implements State.
func (s *Snapshot) Now() time.Time { return s.At }

// Assign records a decision as the database would: the owner's open count
// goes up (and the previous owner's down), and a round-robin pick moves
// the team's position. It lets a test route many leads in a row.
func (s *Snapshot) Assign(d Decision, previousOwner string) {
	if d.Owner == previousOwner {
		return
	}
	for i := range s.Users {
		switch s.Users[i].Name {
		case d.Owner:
			s.Users[i].Open++
		case previousOwner:
			s.Users[i].Open--
		}
	}
	if d.Strategy == RoundRobin && d.Owner != "" {
		if s.Last == nil {
			s.Last = map[string]string{}
		}
		s.Last[d.Team] = d.Owner
	}
}
