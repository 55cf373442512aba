package auth

import "slices"

// Role is what a user is allowed to do; the names are those of
// store.Roles.
type Role string

// The roles.
const (
	Admin     Role = "admin"
	Marketing Role = "marketing"
	Sales     Role = "sales"
	Manager   Role = "manager"
	Viewer    Role = "viewer"
)

// Roles lists every role, in the order the UI shows them.
var Roles = []Role{Admin, Marketing, Sales, Manager, Viewer}

// Perm is one thing a role may do. Every UI route and every API operation
// names the one it needs; users and API keys have a role alike.
type Perm string

// The permissions.
const (
	// Public routes need no login (login page, static assets).
	Public Perm = "public"
	// Authenticated is any logged-in user (logout, language).
	Authenticated Perm = "authenticated"

	ViewDashboard Perm = "dashboard.view"
	ViewLeads     Perm = "leads.view"
	ExportLeads   Perm = "leads.export"
	WorkQueue     Perm = "queue.view"   // have a queue of one's own leads
	WorkLeads     Perm = "leads.work"   // accept, reject, qualify, disqualify, recycle, touch, BANT
	ReassignLeads Perm = "leads.assign" // give a lead to someone else
	ViewModel     Perm = "model.view"
	EditModel     Perm = "model.edit"   // validate and apply a scoring model
	ImportLeads   Perm = "leads.import" // create, update and import leads (lists, trade shows)
	EditKPI       Perm = "kpi.edit"     // campaign costs and targets
	ViewNurture   Perm = "nurture.view"
	EditNurture   Perm = "nurture.edit" // sequences: save, activate, pause, enrol, test send
	ViewSettings  Perm = "settings.view"
	// Administer is every setting (routing, SLA, calendar, reasons,
	// teams), users, API and write keys, webhooks, erasure.
	Administer Perm = "settings.admin"
)

// matrix is the permission matrix. Admin may do everything; the others
// what their job needs (PRODUCT.md, "Who uses it"): marketing owns the
// model, sales works leads, managers work and reassign and read
// everything, viewers read.
var matrix = map[Role][]Perm{
	Marketing: {ViewDashboard, ViewLeads, ExportLeads, ImportLeads, ViewModel, EditModel, EditKPI, ViewNurture, EditNurture, ViewSettings},
	Sales:     {ViewDashboard, ViewLeads, WorkQueue, WorkLeads, ViewModel, ViewNurture},
	Manager: {ViewDashboard, ViewLeads, ExportLeads, WorkQueue, WorkLeads, ReassignLeads, ViewModel, EditKPI,
		ViewNurture, ViewSettings},
	Viewer: {ViewDashboard, ViewLeads, ViewModel, ViewNurture},
}

// Can reports whether role has perm. Unknown roles can do nothing but
// what is public.
func Can(role Role, perm Perm) bool {
	switch {
	case perm == Public:
		return true
	case !slices.Contains(Roles, role):
		return false
	case perm == Authenticated, role == Admin:
		return true
	}
	return slices.Contains(matrix[role], perm)
}

// ParseRole returns the role called name, or false.
func ParseRole(name string) (Role, bool) {
	r := Role(name)
	return r, slices.Contains(Roles, r)
}

// Holders lists the roles that have perm, in the order of Roles.
func Holders(perm Perm) []Role {
	var out []Role
	for _, r := range Roles {
		if Can(r, perm) {
			out = append(out, r)
		}
	}
	return out
}
