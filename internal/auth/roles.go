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

// Perm is one thing a role may do. Every UI route names the one it needs,
// and the API can name the same when API keys get roles.
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
	EditModel     Perm = "model.edit" // validate and apply a scoring model
	ViewSettings  Perm = "settings.view"
	Administer    Perm = "settings.admin" // users, API keys, webhooks
)

// matrix is the permission matrix. Admin may do everything; the others
// what their job needs (PRODUCT.md, "Who uses it"): marketing owns the
// model, sales works leads, managers work and reassign and read
// everything, viewers read.
var matrix = map[Role][]Perm{
	Marketing: {ViewDashboard, ViewLeads, ExportLeads, ViewModel, EditModel, ViewSettings},
	Sales:     {ViewDashboard, ViewLeads, WorkQueue, WorkLeads, ViewModel},
	Manager:   {ViewDashboard, ViewLeads, ExportLeads, WorkQueue, WorkLeads, ReassignLeads, ViewModel, ViewSettings},
	Viewer:    {ViewDashboard, ViewLeads, ViewModel},
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
