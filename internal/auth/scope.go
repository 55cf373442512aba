package auth

// allPerms are the permissions of the matrix, in a stable order.
var allPerms = []Perm{ViewDashboard, ViewLeads, ExportLeads, WorkQueue, WorkLeads, ReassignLeads, ViewModel,
	EditModel, ImportLeads, EditKPI, ViewNurture, EditNurture, ViewSettings, Administer}

// Missing lists the permissions of role want that role have lacks: what
// an API key of role want may not do for a user of role have (empty: the
// key does nothing its user could not do).
func Missing(have, want Role) []Perm {
	var out []Perm
	for _, p := range allPerms {
		if Can(want, p) && !Can(have, p) {
			out = append(out, p)
		}
	}
	return out
}

// LeadScope is which leads someone sees and acts on. Sales sees and works
// the leads it owns and those of its team; every other role sees every
// lead (what it may do with one is the permission matrix).
type LeadScope struct {
	// All is every lead; otherwise the leads owned by User or in Team.
	All  bool
	User string
	Team string
}

// ScopeOf is the lead scope of a user (name and team) with a role.
func ScopeOf(role Role, user, team string) LeadScope {
	if role != Sales {
		return LeadScope{All: true}
	}
	return LeadScope{User: user, Team: team}
}

// Sees reports whether a lead with this owner and team is in the scope.
// An unassigned lead of no team is no salesperson's.
func (s LeadScope) Sees(owner, team string) bool {
	return s.All || (s.User != "" && owner == s.User) || (s.Team != "" && team == s.Team)
}
