package server

import (
	"bytes"
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow/internal/csvimport"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/store"
)

type importInput struct {
	Map      string `query:"map" doc:"Header mapping override, e.g. E-mail=email,会社=company,備考=- (- ignores a column)"`
	Encoding string `query:"encoding" enum:",utf-8,shift_jis,utf-16le,utf-16be" doc:"Force an encoding; detected when empty"`
	RawBody  []byte `contentType:"text/csv"`
}

type importOutput struct {
	Body *flow.ImportResult
}

type sourceOutput struct {
	Body struct {
		Source   *store.Source `json:"source"`
		WriteKey string        `json:"write_key" doc:"Shown once; send it as the HTTP Basic user name to /v1/*"`
	}
}

type nameInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"200"`
	}
}

type apiKeyInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"200"`
		Role string `json:"role,omitempty" enum:"admin,marketing,sales,manager,viewer" doc:"Role of the key in the permission matrix (default admin)"`
		User string `json:"user,omitempty" maxLength:"254" doc:"User (name or email) the key acts for: its actions are the user's, it never does more than the user's role allows, and a sales key sees that user's and team's leads only. Required for a sales key."`
	}
}

type apiKeyOutput struct {
	Body struct {
		APIKey *store.APIKey `json:"api_key"`
		Key    string        `json:"key" doc:"Shown once; send it as Authorization: Bearer <key>"`
	}
}

func (s *Server) registerImport() {
	huma.Register(s.api, huma.Operation{OperationID: "import-leads", Method: http.MethodPost, Path: "/api/v1/imports/leads",
		Summary: "Import a lead list (CSV)",
		Description: "Upserts leads by email from a CSV file (UTF-8 with or without BOM, Shift_JIS/CP932, UTF-16 with BOM) " +
			"with English or Japanese headers. All valid rows are stored in one transaction; rejected rows are listed with their line numbers. " +
			"A malformed file stores nothing.",
		MaxBodyBytes: 64 << 20, Tags: []string{"leads"}},
		func(ctx context.Context, in *importInput) (*importOutput, error) {
			m, err := csvimport.ParseMap(in.Map)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			res, err := csvimport.Read(bytes.NewReader(in.RawBody), csvimport.Options{Map: m, Encoding: in.Encoding})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out, err := s.deps.Flow.Import(ctx, res, actorOf(ctx), nil)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &importOutput{Body: out}, nil
		})
}

func (s *Server) registerKeys() {
	tags := []string{"admin"}
	huma.Register(s.api, huma.Operation{OperationID: "create-source", Method: http.MethodPost, Path: "/api/v1/sources",
		Summary: "Create an event source", Description: "Returns the source's write key once.", DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *nameInput) (*sourceOutput, error) {
			out := &sourceOutput{}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				src, key, err := tx.CreateSource(ctx, in.Body.Name)
				if err != nil {
					return err
				}
				out.Body.Source, out.Body.WriteKey = src, key
				return tx.Audit(ctx, string(actorOf(ctx)), "source.create", "source", src.ID, src.Name)
			})
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "create-api-key", Method: http.MethodPost, Path: "/api/v1/apikeys",
		Summary: "Create an API key", Description: "Returns the key once; only its hash is stored.", DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *apiKeyInput) (*apiKeyOutput, error) {
			out := &apiKeyOutput{}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				k, key, err := tx.CreateAPIKeyFor(ctx, store.NewAPIKey{Name: in.Body.Name, Role: in.Body.Role, User: in.Body.User})
				if err != nil {
					return err
				}
				out.Body.APIKey, out.Body.Key = k, key
				return tx.Audit(ctx, string(actorOf(ctx)), "apikey.create", "api_key", k.ID, k.Name)
			})
			return out, apiError(s.log, err)
		})
}
