package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow/internal/flow"
)

type ctxKey int

const actorKey ctxKey = 1

// actorOf returns who is calling: "api:<key name>", or "user:<name>" for
// a key of a user.
func actorOf(ctx context.Context) flow.Actor {
	if a, ok := ctx.Value(actorKey).(flow.Actor); ok {
		return a
	}
	return "anonymous"
}

// bearerAuth is the huma middleware that authenticates every API
// operation with an API key and checks that the key's role has the
// operation's permission (perms.go).
func (s *Server) bearerAuth(ctx huma.Context, next func(huma.Context)) {
	h := ctx.Header("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="leadflow"`)
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized,
			"missing API key: send Authorization: Bearer <key> (create one with `leadflow apikey create --name NAME`)")
		return
	}
	key, err := s.deps.DB.APIKeyByKey(ctx.Context(), strings.TrimSpace(token))
	if err != nil {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="leadflow", error="invalid_token"`)
		status := http.StatusUnauthorized
		msg := "unknown or revoked API key"
		if apiErr := apiError(s.log, err); apiErr != nil {
			if se, ok := apiErr.(huma.StatusError); ok && se.GetStatus() != http.StatusUnauthorized {
				status, msg = se.GetStatus(), se.Error()
			}
		}
		_ = huma.WriteErr(s.api, ctx, status, msg)
		return
	}
	if key.User != "" && !key.UserActive {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="leadflow", error="invalid_token"`)
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized,
			"API key \""+key.Name+"\" belongs to user "+key.User+", who is deactivated or deleted")
		return
	}
	if !s.authorize(ctx, key) {
		return
	}
	c := newCaller(key)
	if !s.checkLeadPath(ctx, c) {
		return
	}
	next(huma.WithValue(huma.WithValue(ctx, actorKey, c.actor()), callerKey, c))
}
