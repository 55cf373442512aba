package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

// apiPerms is the permission each API operation needs, by operation id:
// the same matrix (internal/auth) as the UI's routes, applied to the role
// of the API key. An operation missing here needs auth.Administer (and
// TestAPIPermissionMatrix fails).
var apiPerms = map[string]auth.Perm{
	// Leads: read.
	"list-leads": auth.ViewLeads, "get-lead": auth.ViewLeads, "lead-timeline": auth.ViewLeads,
	"lead-transitions": auth.ViewLeads, "lead-score": auth.ViewLeads, "list-touches": auth.ViewLeads,
	"lead-handoff": auth.ViewLeads, "lead-sla": auth.ViewLeads, "lead-assignments": auth.ViewLeads,
	"lead-enrolments": auth.ViewLeads, "get-rejection-reasons": auth.ViewLeads,
	// Leads: create, update, import (marketing's lists).
	"create-lead": auth.ImportLeads, "update-lead": auth.ImportLeads, "import-leads": auth.ImportLeads,
	// Leads: work them.
	"set-bant": auth.WorkLeads, "move-lead": auth.WorkLeads, "accept-lead": auth.WorkLeads,
	"qualify-lead": auth.WorkLeads, "reject-lead": auth.WorkLeads, "disqualify-lead": auth.WorkLeads,
	"log-touch": auth.WorkLeads, "update-deal": auth.WorkLeads, "patch-deal": auth.WorkLeads,
	"import-deals": auth.WorkLeads, "complete-nurture-task": auth.WorkLeads, "exit-enrolment": auth.WorkLeads,
	"list-nurture-tasks": auth.WorkQueue,
	"assign-lead":        auth.ReassignLeads, "route-lead": auth.ReassignLeads,
	"erase-lead": auth.Administer,
	// Scoring model.
	"get-model": auth.ViewModel, "list-model-versions": auth.ViewModel, "get-model-version": auth.ViewModel,
	"diff-models": auth.ViewModel, "latest-rescore": auth.ViewModel, "get-rescore": auth.ViewModel,
	"validate-model": auth.EditModel, "apply-model": auth.EditModel, "backtest-model": auth.EditModel,
	// KPIs, SLA reports, calendar.
	"get-kpis": auth.ViewDashboard, "get-targets": auth.ViewDashboard, "get-review": auth.ViewDashboard,
	"list-sla-clocks": auth.ViewDashboard, "sla-compliance": auth.ViewDashboard, "calendar-holidays": auth.ViewDashboard,
	"set-campaign-cost": auth.EditKPI, "import-campaign-costs": auth.EditKPI, "put-targets": auth.EditKPI,
	"delete-targets": auth.EditKPI, "list-review-subscriptions": auth.ViewDashboard, "set-review-subscription": auth.EditKPI,
	// Nurture.
	"list-sequences": auth.ViewNurture, "get-sequence": auth.ViewNurture, "sequence-report": auth.ViewNurture,
	"enrolment-sends": auth.ViewNurture, "report-nurture-bounces": auth.EditNurture,
	"put-sequence": auth.EditNurture, "activate-sequence": auth.EditNurture, "enrol-lead": auth.EditNurture,
	"pause-enrolment": auth.EditNurture, "resume-enrolment": auth.EditNurture, "sequence-test-send": auth.EditNurture,
	// Settings: read.
	"get-sla-settings": auth.ViewSettings, "get-routing": auth.ViewSettings, "get-notification-settings": auth.ViewSettings,
	"get-nurture-settings": auth.ViewSettings, "list-users": auth.ViewSettings, "get-user": auth.ViewSettings,
	"list-teams": auth.ViewSettings, "get-team": auth.ViewSettings,
	// Settings: write, users, keys, webhooks.
	"put-sla-settings": auth.Administer, "put-routing": auth.Administer, "put-notification-settings": auth.Administer,
	"put-nurture-settings": auth.Administer, "put-rejection-reasons": auth.Administer,
	"create-user": auth.Administer, "update-user": auth.Administer, "create-team": auth.Administer,
	"update-team": auth.Administer, "create-source": auth.Administer, "create-api-key": auth.Administer,
	"create-webhook": auth.Administer, "list-webhooks": auth.Administer, "get-webhook": auth.Administer,
	"update-webhook": auth.Administer, "delete-webhook": auth.Administer, "list-webhook-deliveries": auth.Administer,
	"redeliver-webhook": auth.Administer, "send-test-email": auth.Administer,
}

// permOf is the permission an operation needs.
func permOf(op *huma.Operation) auth.Perm {
	if op == nil {
		return auth.Administer
	}
	if p, ok := apiPerms[op.OperationID]; ok {
		return p
	}
	return auth.Administer
}

// authorize refuses, as a 403 problem, a key whose role lacks the
// operation's permission; it says which permission and which roles have it.
// A key of a user is also refused what the user's current role lacks, and
// a sales key of no user everything (its leads are a user's).
func (s *Server) authorize(ctx huma.Context, key *store.APIKey) bool {
	op := ctx.Operation()
	perm := permOf(op)
	role := auth.Role(key.Role)
	id := ""
	if op != nil {
		id = op.OperationID
	}
	deny := func(msg string, detail *huma.ErrorDetail) bool {
		_ = huma.WriteErr(s.api, ctx, http.StatusForbidden, msg, detail)
		return false
	}
	if role == auth.Sales && key.User == "" {
		return deny("API key \""+key.Name+"\" has role sales but belongs to no user: a sales key sees and acts on its user's "+
			"and its user's team's leads only; create one for a user (leadflow apikey create --role sales --user NAME)",
			&huma.ErrorDetail{Location: "Authorization", Message: "sales key of no user", Value: string(role)})
	}
	if !auth.Can(role, perm) {
		holders := []string{}
		for _, r := range auth.Holders(perm) {
			holders = append(holders, string(r))
		}
		return deny("API key \""+key.Name+"\" has role "+string(role)+", which lacks permission "+string(perm)+" needed by "+id+
			" (roles with it: "+strings.Join(holders, ", ")+")",
			&huma.ErrorDetail{Location: "Authorization", Message: "lacks permission " + string(perm), Value: string(role)})
	}
	if key.User != "" && !auth.Can(auth.Role(key.UserRole), perm) {
		return deny("API key \""+key.Name+"\" acts for user "+key.User+", whose role "+key.UserRole+" lacks permission "+
			string(perm)+" needed by "+id,
			&huma.ErrorDetail{Location: "Authorization", Message: "user lacks permission " + string(perm), Value: key.UserRole})
	}
	return true
}

// documentPerms writes each operation's permission into the OpenAPI
// document (x-permission and a line of its description).
func (s *Server) documentPerms() {
	paths := s.api.OpenAPI().Paths
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := paths[k]
		for _, op := range []*huma.Operation{p.Get, p.Put, p.Post, p.Delete, p.Patch} {
			if op == nil {
				continue
			}
			perm := permOf(op)
			if op.Extensions == nil {
				op.Extensions = map[string]any{}
			}
			op.Extensions["x-permission"] = string(perm)
			line := "Permission: `" + string(perm) + "`."
			if op.Description == "" {
				op.Description = line
			} else if !strings.Contains(op.Description, line) {
				op.Description += "\n\n" + line
			}
		}
	}
}
